package io.cosmichorizons.generator;

import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a generated workload contains, for tests to compare the pipeline's output with. Times are epoch milliseconds.
 *
 * <p>Saved as JSON lines by {@link GroundTruthWriter} (see there for the format) and read back with {@link #read}.
 *
 * @param run the options the workload was generated with
 * @param preferences the notification preferences published first; users not listed have the default channels
 * @param jobs every job, in submission order
 * @param injected every injected record (duplicates, out-of-order events, malformed records), in publishing order
 * @param totals record counts
 */
public record GroundTruth(Run run, List<Preference> preferences, List<Job> jobs, List<Injected> injected, Totals totals) {

    /** The channels a user gets when they set no preference (as after a tombstone). */
    public static final List<NotificationChannel> DEFAULT_CHANNELS = List.of(NotificationChannel.EMAIL, NotificationChannel.IN_APP);

    public GroundTruth {
        preferences = List.copyOf(preferences);
        jobs = List.copyOf(jobs);
        injected = List.copyOf(injected);
    }

    /** Reads a file written by {@link GroundTruthWriter}. */
    public static GroundTruth read(Path file) throws IOException {
        return GroundTruthWriter.read(file);
    }

    /** Writes this ground truth in the {@link GroundTruthWriter} format. */
    public void write(Path file) throws IOException {
        try (GroundTruthWriter writer = new GroundTruthWriter(file)) {
            writer.run(run);
            preferences.forEach(writer::preference);
            jobs.forEach(writer::job);
            injected.forEach(writer::injected);
            writer.totals(totals);
        }
    }

    /** A sink that keeps everything in memory; {@link Collector#result()} gives the ground truth at the end. */
    public static Collector collector() {
        return new Collector();
    }

    /** The job with this id (a linear search: index {@link #jobs()} yourself for many lookups). */
    public Optional<Job> job(String jobId) {
        return jobs.stream().filter(j -> j.jobId().equals(jobId)).findFirst();
    }

    /** Where a notification for this user's job goes: nowhere when muted, their channels, or the defaults. */
    public List<NotificationChannel> channelsFor(String userId) {
        return preferences.stream()
                .filter(p -> p.userId().equals(userId))
                .reduce((first, second) -> second) // the latest preference wins, as in the compacted topic
                .map(p -> p.muted() ? List.<NotificationChannel>of() : p.channels())
                .orElse(DEFAULT_CHANNELS);
    }

    /**
     * The options of the run.
     *
     * @param startTime start of the simulated window
     * @param submissionWindowMs submissions are spread over [startTime, startTime + submissionWindowMs]
     */
    public record Run(long seed, long startTime, long submissionWindowMs, int jobs, int users, WireFormat format,
            TopicNames topics, int metricsIntervalSeconds, GeneratorConfig.OutcomeMix outcomes,
            double duplicateRate, double outOfOrderRate, double malformedRate, long outOfOrderMaxGapMs) {

        static Run of(GeneratorConfig config) {
            return new Run(config.seed(), config.startTime().toEpochMilli(), config.submissionWindow().toMillis(),
                    config.jobs(), config.users(), config.format(), config.topics(), config.metricsIntervalSeconds(),
                    config.outcomes(), config.inject().duplicates(), config.inject().outOfOrder(),
                    config.inject().malformed(), config.inject().outOfOrderMaxGap().toMillis());
        }
    }

    /** A user's notification preference as published (key user_id). */
    public record Preference(String userId, List<NotificationChannel> channels, boolean muted, long updatedAt) {
        public Preference {
            channels = List.copyOf(channels);
        }
    }

    /**
     * One valid lifecycle event of a job.
     *
     * @param occurredAt event time, also the Kafka timestamp
     */
    public record Step(String eventId, LifecycleEventType type, long occurredAt, String correlationId) {}

    /**
     * One job and how it ended. Fields of the terminal event that do not apply to its outcome are null.
     *
     * @param finalStatus COMPLETED, FAILED or CANCELLED
     * @param exitCode from COMPLETED or FAILED (-1 when the job never ran)
     * @param errorCode from FAILED
     * @param errorMessage from FAILED
     * @param retryable from FAILED
     * @param executionTimeMs from COMPLETED
     * @param outputRef from COMPLETED
     * @param cancelReason from CANCELLED
     * @param cancelledBy from CANCELLED
     * @param lifecycle the valid lifecycle events in event-time order (a valid path: SUBMITTED, QUEUED, RUNNING,
     *     terminal; FAILED may follow QUEUED; CANCELLED may follow SUBMITTED, QUEUED or RUNNING)
     * @param metricsSamples how many metrics samples the job produced
     */
    public record Job(String jobId, String userId, String hpcSystem, String queue, String pipeline, int requestedCores,
            long requestedMemoryBytes, long requestedWalltimeMs, String hpcJobId, LifecycleEventType finalStatus,
            Integer exitCode, String errorCode, String errorMessage, Boolean retryable, Long executionTimeMs,
            String outputRef, String cancelReason, String cancelledBy, List<Step> lifecycle, int metricsSamples) {

        public Job {
            lifecycle = List.copyOf(lifecycle);
        }

        /** occurred_at of the step of this type, if the job went through it. */
        public Optional<Long> timeOf(LifecycleEventType type) {
            return lifecycle.stream().filter(s -> s.type() == type).map(Step::occurredAt).findFirst();
        }

        /** The last lifecycle event, which decides the job's final status. */
        public Step terminal() {
            return lifecycle.get(lifecycle.size() - 1);
        }

        /** The correlation id of the submission (job_status.correlation_id). */
        public String submissionCorrelationId() {
            return lifecycle.get(0).correlationId();
        }

        public Long submittedAt() {
            return timeOf(LifecycleEventType.SUBMITTED).orElse(null);
        }

        public Long queuedAt() {
            return timeOf(LifecycleEventType.QUEUED).orElse(null);
        }

        public Long startedAt() {
            return timeOf(LifecycleEventType.RUNNING).orElse(null);
        }

        public Long endedAt() {
            return terminal().occurredAt();
        }

        /** started - queued, or ended - queued for a job that never ran; null when it was never queued. */
        public Long queueWaitMs() {
            Long queued = queuedAt();
            if (queued == null) {
                return null;
            }
            Long started = startedAt();
            return (started != null ? started : endedAt()) - queued;
        }

        /** ended - started; null when the job never ran. */
        public Long runMs() {
            Long started = startedAt();
            return started == null ? null : endedAt() - started;
        }
    }

    /**
     * An injected record.
     *
     * @param key the Kafka key as UTF-8 text
     * @param expectedReason the dead-letter reason the pipeline should assign; null for OUT_OF_ORDER, which it must
     *     accept
     * @param eventId the event id inside the value, when it has one (null for garbage and empty values)
     * @param timestamp the Kafka record timestamp
     */
    public record Injected(String topic, String key, InjectionKind kind, DeadLetterReason expectedReason, String eventId,
            long timestamp) {}

    /**
     * Record counts.
     *
     * @param records every record published, injected ones included
     * @param recordsPerTopic records per topic name, injected ones included (what a consumer reads)
     * @param validEventsPerType valid events, each counted once, by the {@code event_type} header value: lifecycle
     *     step, audit action, {@code JobMetricsEvent} or {@code NotificationPreference}
     * @param injectedPerKind injected records per kind
     * @param earliestTimestamp the smallest record timestamp (a notification preference, set before the window)
     * @param latestTimestamp the largest record timestamp: the end of the simulated time, e.g. for a final watermark
     */
    public record Totals(long records, Map<String, Long> recordsPerTopic, Map<String, Long> validEventsPerType,
            Map<InjectionKind, Long> injectedPerKind, long earliestTimestamp, long latestTimestamp) {
        public Totals {
            // Sorted, so that the same workload always writes the same file.
            recordsPerTopic = Collections.unmodifiableMap(new TreeMap<>(recordsPerTopic));
            validEventsPerType = Collections.unmodifiableMap(new TreeMap<>(validEventsPerType));
            injectedPerKind = injectedPerKind.isEmpty() ? Map.of()
                    : Collections.unmodifiableMap(new EnumMap<>(injectedPerKind));
        }

        /** How many injected records should be dead-lettered with this reason. */
        public long expectedDeadLetters(DeadLetterReason reason) {
            return injectedPerKind.entrySet().stream()
                    .filter(e -> e.getKey().expectedReason() == reason)
                    .mapToLong(Map.Entry::getValue)
                    .sum();
        }
    }

    /** Collects a ground truth in memory. */
    public static final class Collector implements GroundTruthSink {
        private Run run;
        private final List<Preference> preferences = new ArrayList<>();
        private final List<Job> jobs = new ArrayList<>();
        private final List<Injected> injected = new ArrayList<>();
        private Totals totals;

        private Collector() {}

        @Override
        public void run(Run run) {
            this.run = run;
        }

        @Override
        public void preference(Preference preference) {
            preferences.add(preference);
        }

        @Override
        public void job(Job job) {
            jobs.add(job);
        }

        @Override
        public void injected(Injected record) {
            injected.add(record);
        }

        @Override
        public void totals(Totals totals) {
            this.totals = totals;
        }

        /** The collected ground truth; available once the workload has been planned completely. */
        public GroundTruth result() {
            if (run == null || totals == null) {
                throw new IllegalStateException("The workload has not been planned completely yet");
            }
            return new GroundTruth(run, preferences, jobs, injected, totals);
        }
    }
}
