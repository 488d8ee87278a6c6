package io.cosmichorizons.generator;

import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything that shapes a synthetic workload. Two runs with equal configs (same seed, same startTime, same options)
 * produce byte-identical records in the same order; only {@link #bootstrapServers}, {@link #rate} and
 * {@link #producerProperties} may differ without changing the records. Build one with {@link #builder()}.
 *
 * @param bootstrapServers Kafka bootstrap servers; default {@code localhost:9092}
 * @param topics topic names; default {@link TopicNames#defaults()}
 * @param format value encoding of the valid events; default {@link WireFormat#AVRO}
 * @param jobs number of jobs to simulate; default 1,000 (about 20 records per job with the default distributions)
 * @param users number of users, ids {@code user-0000} ...; default 50
 * @param seed seed of every random choice; default 1
 * @param startTime event time of the start of the simulated window; default {@link #DEFAULT_START_AGO} ago, truncated
 *     to the second. Records carry their event time as Kafka timestamp, and Kafka 4 brokers reject timestamps more
 *     than the topic's {@code message.timestamp.after.max.ms} (default 1 hour) ahead of their clock; since jobs run on
 *     for hours after their submission, the default lies in the past (and within the input topics' 7-day retention).
 *     {@link WorkloadGenerator#run} checks this before it sends anything.
 * @param submissionWindow job submissions are spread over [startTime, startTime + submissionWindow]; default 1 hour.
 *     Jobs run on past its end.
 * @param rate records per second to publish at (paced by a token bucket); 0 publishes as fast as possible. Default 0
 * @param outcomes share of jobs that end COMPLETED, FAILED and CANCELLED; default 80/12/8 %
 * @param metricsIntervalSeconds one metrics sample per this many seconds of run time; default 60
 * @param inject bad and out-of-order input to inject; default none
 * @param producerProperties extra Kafka producer settings (e.g. {@code linger.ms}, {@code compression.type})
 */
public record GeneratorConfig(
        String bootstrapServers,
        TopicNames topics,
        WireFormat format,
        int jobs,
        int users,
        long seed,
        Instant startTime,
        Duration submissionWindow,
        double rate,
        OutcomeMix outcomes,
        int metricsIntervalSeconds,
        Injection inject,
        Map<String, String> producerProperties) {

    public GeneratorConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(startTime, "startTime");
        Objects.requireNonNull(outcomes, "outcomes");
        Objects.requireNonNull(inject, "inject");
        if (jobs < 0) {
            throw new IllegalArgumentException("jobs must be >= 0, is " + jobs);
        }
        if (users < 1) {
            throw new IllegalArgumentException("users must be >= 1, is " + users);
        }
        if (submissionWindow == null || submissionWindow.isNegative()) {
            throw new IllegalArgumentException("submissionWindow must be >= 0, is " + submissionWindow);
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("rate must be a finite number >= 0, is " + rate);
        }
        if (metricsIntervalSeconds < 1) {
            throw new IllegalArgumentException("metricsIntervalSeconds must be >= 1, is " + metricsIntervalSeconds);
        }
        // Event times are milliseconds on the wire; a finer start would not be reproduced by the records.
        startTime = startTime.truncatedTo(ChronoUnit.MILLIS);
        producerProperties = Map.copyOf(producerProperties);
    }

    /** How far back a workload starts by default: every simulated event then lies in the past. */
    public static final Duration DEFAULT_START_AGO = Duration.ofDays(4);

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to derive a variant (e.g. the same workload on other topics). */
    public Builder toBuilder() {
        return new Builder()
                .bootstrapServers(bootstrapServers).topics(topics).format(format).jobs(jobs).users(users).seed(seed)
                .startTime(startTime).submissionWindow(submissionWindow).rate(rate).outcomes(outcomes)
                .metricsIntervalSeconds(metricsIntervalSeconds).inject(inject).producerProperties(producerProperties);
    }

    /**
     * How jobs end. The shares need not sum to 1; they are normalised.
     *
     * @param completed weight of COMPLETED
     * @param failed weight of FAILED (a minority of failures are scheduler rejections right after QUEUED)
     * @param cancelled weight of CANCELLED (after SUBMITTED, QUEUED or RUNNING)
     */
    public record OutcomeMix(double completed, double failed, double cancelled) {
        public OutcomeMix {
            if (!(completed >= 0 && failed >= 0 && cancelled >= 0) || completed + failed + cancelled <= 0) {
                throw new IllegalArgumentException("outcome weights must be >= 0 with a positive sum: "
                        + completed + "/" + failed + "/" + cancelled);
            }
        }

        /** 80 % COMPLETED, 12 % FAILED, 8 % CANCELLED. */
        public static OutcomeMix defaults() {
            return new OutcomeMix(0.80, 0.12, 0.08);
        }
    }

    /**
     * Injected input that the pipeline must cope with. Each rate is a probability per valid lifecycle record.
     *
     * @param duplicates re-send an exact copy (key, value, timestamp, headers) of the record a little later; expected
     *     dead-letter reason DUPLICATE_EVENT
     * @param outOfOrder publish the record right after the job's next lifecycle event instead of before it, when the
     *     two are at most {@code outOfOrderMaxGap} apart in event time. Not a bad record: the pipeline must buffer and
     *     reorder it
     * @param malformed publish a bad record to the lifecycle topic next to it, cycling through the kinds of
     *     {@link InjectionKind#MALFORMED}
     * @param outOfOrderMaxGap the largest event-time distance of a swapped pair, so the disorder stays within what a
     *     bounded-out-of-orderness watermark tolerates; default 30 s, the jobs' default watermark delay
     *     ({@code lifecycle.out-of-orderness}, {@code metrics.out-of-orderness}). A larger gap makes some swapped
     *     events late for the metrics job's minutes, and which ones depends on where the watermark stood, which
     *     differs after every restore: the outputs would then no longer be a function of the input alone
     */
    public record Injection(double duplicates, double outOfOrder, double malformed, Duration outOfOrderMaxGap) {
        public static final Duration DEFAULT_OUT_OF_ORDER_MAX_GAP = Duration.ofSeconds(30);

        public Injection {
            for (double r : new double[] {duplicates, outOfOrder, malformed}) {
                if (!(r >= 0 && r <= 1)) {
                    throw new IllegalArgumentException("injection rates must be within [0, 1]: " + r);
                }
            }
            Objects.requireNonNull(outOfOrderMaxGap, "outOfOrderMaxGap");
        }

        /** The given rates with the default maximum gap for out-of-order pairs. */
        public Injection(double duplicates, double outOfOrder, double malformed) {
            this(duplicates, outOfOrder, malformed, DEFAULT_OUT_OF_ORDER_MAX_GAP);
        }

        /** A clean workload. */
        public static Injection none() {
            return new Injection(0, 0, 0);
        }
    }

    /** Builds a {@link GeneratorConfig}; every field has the default documented on the record. */
    public static final class Builder {
        private String bootstrapServers = "localhost:9092";
        private TopicNames topics = TopicNames.defaults();
        private WireFormat format = WireFormat.AVRO;
        private int jobs = 1_000;
        private int users = 50;
        private long seed = 1;
        private Instant startTime;
        private Duration submissionWindow = Duration.ofHours(1);
        private double rate;
        private OutcomeMix outcomes = OutcomeMix.defaults();
        private int metricsIntervalSeconds = 60;
        private Injection inject = Injection.none();
        private Map<String, String> producerProperties = new LinkedHashMap<>();

        private Builder() {}

        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        public Builder topics(TopicNames topics) {
            this.topics = topics;
            return this;
        }

        public Builder format(WireFormat format) {
            this.format = format;
            return this;
        }

        public Builder jobs(int jobs) {
            this.jobs = jobs;
            return this;
        }

        public Builder users(int users) {
            this.users = users;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Default: the time {@link #build()} is called, truncated to the second. */
        public Builder startTime(Instant startTime) {
            this.startTime = startTime;
            return this;
        }

        public Builder submissionWindow(Duration submissionWindow) {
            this.submissionWindow = submissionWindow;
            return this;
        }

        /** Records per second; 0 = as fast as possible. */
        public Builder rate(double rate) {
            this.rate = rate;
            return this;
        }

        public Builder outcomes(OutcomeMix outcomes) {
            this.outcomes = outcomes;
            return this;
        }

        public Builder metricsIntervalSeconds(int metricsIntervalSeconds) {
            this.metricsIntervalSeconds = metricsIntervalSeconds;
            return this;
        }

        public Builder inject(Injection inject) {
            this.inject = inject;
            return this;
        }

        public Builder producerProperties(Map<String, String> producerProperties) {
            this.producerProperties = new LinkedHashMap<>(producerProperties);
            return this;
        }

        public Builder producerProperty(String key, String value) {
            this.producerProperties.put(key, value);
            return this;
        }

        public GeneratorConfig build() {
            Instant start = startTime != null ? startTime
                    : Instant.now().minus(DEFAULT_START_AGO).truncatedTo(ChronoUnit.SECONDS);
            return new GeneratorConfig(bootstrapServers, topics, format, jobs, users, seed, start, submissionWindow,
                    rate, outcomes, metricsIntervalSeconds, inject, producerProperties);
        }
    }
}
