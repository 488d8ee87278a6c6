package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/** Builds lifecycle events and the envelopes the decoder would make of them. */
final class LifecycleEvents {
    static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
    private static long offset;

    private LifecycleEvents() {}

    static JobLifecycleEvent event(String jobId, LifecycleEventType type, long minutesAfterT0) {
        Object details = switch (type) {
            case SUBMITTED -> new SubmittedDetails("imaging", "setonix", "work", 32, 64L << 30, 7_200_000L);
            case QUEUED -> new QueuedDetails("hpc-" + jobId, 2, null);
            case RUNNING -> new RunningDetails(1);
            case COMPLETED -> new CompletedDetails(600_000L, 0, "s3://out/" + jobId);
            case FAILED -> new FailedDetails("NonZeroExitCode", "exit 3", 3, false);
            case CANCELLED -> new CancelledDetails("no longer needed", "user-1");
        };
        return JobLifecycleEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes((jobId + type).getBytes(StandardCharsets.UTF_8)).toString())
                .setEventType(type)
                .setJobId(jobId)
                .setUserId("user-1")
                .setCorrelationId("corr-" + jobId)
                .setOccurredAt(T0.plusSeconds(60 * minutesAfterT0))
                .setProducer("test")
                .setDetails(details)
                .build();
    }

    static InputEnvelope envelope(JobLifecycleEvent e) {
        InputEnvelope env = new EventDecoder(EventKind.LIFECYCLE).decode("job-lifecycle", 0, offset++,
                e.getOccurredAt().toEpochMilli(), e.getJobId().getBytes(StandardCharsets.UTF_8), AvroCodec.encode(e));
        if (env.getDeadLetter() != null) {
            throw new IllegalArgumentException(env.getDeadLetter().getMessage());
        }
        return env;
    }

    static InputEnvelope envelope(String jobId, LifecycleEventType type, long minutesAfterT0) {
        return envelope(event(jobId, type, minutesAfterT0));
    }
}
