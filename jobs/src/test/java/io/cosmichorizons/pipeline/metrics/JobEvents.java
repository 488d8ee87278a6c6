package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.lifecycle.JobStatuses;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * Builds the inputs of the metrics job's operators: statuses as the lifecycle rules derive them, and metrics samples
 * as the decoder hands them over. Times are seconds after {@link #T0}, a whole minute.
 */
public final class JobEvents {
    public static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
    public static final long T0_MS = T0.toEpochMilli();
    private static long offset;

    private JobEvents() {}

    public static long at(long secondsAfterT0) {
        return T0_MS + secondsAfterT0 * 1000;
    }

    /** A job's statuses, step by step, like the lifecycle state machine emits them. */
    public static final class Job {
        public final String jobId;
        private final String system;
        private final String queue;
        private final int cores;
        private final long walltimeMs;
        private final String userId;
        private JobStatus status;

        public Job(String jobId, String system, String queue, int cores, long walltimeMs) {
            this(jobId, system, queue, cores, walltimeMs, "user-1");
        }

        public Job(String jobId, String system, String queue, int cores, long walltimeMs, String userId) {
            this.jobId = jobId;
            this.system = system;
            this.queue = queue;
            this.cores = cores;
            this.walltimeMs = walltimeMs;
            this.userId = userId;
        }

        public JobStatus submitted(long seconds) {
            status = JobStatuses.submitted(event(LifecycleEventType.SUBMITTED, seconds));
            return copy();
        }

        public JobStatus step(LifecycleEventType type, long seconds) {
            status = JobStatuses.apply(status, event(type, seconds), false);
            return copy();
        }

        /** A late earlier step of an ended job. */
        public JobStatus backfill(LifecycleEventType type, long seconds) {
            status = JobStatuses.apply(status, event(type, seconds), true);
            return copy();
        }

        private JobStatus copy() {
            return JobStatus.newBuilder(status).build();
        }

        public JobLifecycleEvent event(LifecycleEventType type, long seconds) {
            Object details = switch (type) {
                case SUBMITTED -> new SubmittedDetails("imaging", system, queue, cores, 64L << 30, walltimeMs);
                case QUEUED -> new QueuedDetails("hpc-" + jobId, 0, null);
                case RUNNING -> new RunningDetails(1);
                case COMPLETED -> new CompletedDetails(0L, 0, "s3://out/" + jobId);
                case FAILED -> new FailedDetails("NonZeroExitCode", "exit 3", 3, false);
                case CANCELLED -> new CancelledDetails("no longer needed", userId);
            };
            return JobLifecycleEvent.newBuilder()
                    .setEventId(UUID.nameUUIDFromBytes((jobId + type + seconds).getBytes(StandardCharsets.UTF_8)).toString())
                    .setEventType(type).setJobId(jobId).setUserId(userId).setCorrelationId("corr-" + jobId)
                    .setOccurredAt(Instant.ofEpochMilli(at(seconds))).setProducer("test").setDetails(details)
                    .build();
        }

        public String system() {
            return system;
        }
    }

    public static JobMetricsEvent sample(String jobId, long seconds, double cpu, long rss, long read, long write,
            long executionMs) {
        return JobMetricsEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes((jobId + "sample" + seconds).getBytes(StandardCharsets.UTF_8)).toString())
                .setJobId(jobId).setSampledAt(Instant.ofEpochMilli(at(seconds))).setCpuPercent(cpu)
                .setMemoryRssBytes(rss).setIoReadBytes(read).setIoWriteBytes(write).setExecutionTimeMs(executionMs)
                .setGpuUtilizationPercent(null)
                .build();
    }

    public static InputEnvelope envelope(JobMetricsEvent e) {
        InputEnvelope env = new EventDecoder(EventKind.METRICS).decode("job-metrics", 0, offset++,
                e.getSampledAt().toEpochMilli(), e.getJobId().getBytes(StandardCharsets.UTF_8), AvroCodec.encode(e));
        if (env.getDeadLetter() != null) {
            throw new IllegalArgumentException(env.getDeadLetter().getMessage());
        }
        return env;
    }
}
