package io.cosmichorizons.generator;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.publisher.CorrelationContext;
import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.serde.EventValidator;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes a planned workload to Kafka: valid events through {@link EventPublisher} (validated, with the standard
 * headers), injected records byte for byte through {@link EventPublisher#sendRaw}.
 *
 * <pre>{@code
 * GeneratorConfig config = GeneratorConfig.builder().bootstrapServers("localhost:9092").jobs(5_000).seed(42).build();
 * try (GroundTruthWriter truth = new GroundTruthWriter(Path.of("truth.jsonl"))) {
 *     GenerationSummary summary = new WorkloadGenerator(config).onProgress(System.out::println).run(truth);
 * }
 * }</pre>
 */
public final class WorkloadGenerator {
    private static final long REPORT_INTERVAL_NANOS = 1_000_000_000L;

    private final GeneratorConfig config;
    private ProgressListener listener;
    private Consumer<? super PlannedRecord> beforePublish = record -> {};

    public WorkloadGenerator(GeneratorConfig config) {
        this.config = config;
    }

    /** Reports progress about once a second. */
    public WorkloadGenerator onProgress(ProgressListener listener) {
        this.listener = listener;
        return this;
    }

    /**
     * Called on the publishing thread just before each record is handed to the producer (after pacing), e.g. to note
     * when it was produced; keep it quick.
     */
    public WorkloadGenerator beforePublish(Consumer<? super PlannedRecord> beforePublish) {
        this.beforePublish = beforePublish;
        return this;
    }

    /** Publishes the workload and discards the ground truth. */
    public GenerationSummary run() {
        return run(GroundTruthSink.discard());
    }

    /**
     * Publishes the workload, streaming its ground truth to {@code truth}, and waits until every record is
     * acknowledged. The workload is planned twice: first to count it (for the ETA) and to check that the topics accept
     * its timestamps, then to publish it.
     *
     * @throws IllegalStateException before anything is sent, when a topic would reject the workload's future
     *     timestamps (see {@link GeneratorConfig#startTime()})
     * @throws WorkloadPublishException when any record was not acknowledged
     */
    public GenerationSummary run(GroundTruthSink truth) {
        GroundTruth.Totals planned = new WorkloadPlanner(config).plannedTotals();
        FutureTimestampCheck.verify(config, planned, Instant.now());
        long total = planned.records();
        TotalsCapture totals = new TotalsCapture();
        Sends sends = new Sends();
        TokenBucket pacing = config.rate() > 0 ? new TokenBucket(config.rate()) : null;
        long started = System.nanoTime();
        Reporter reporter = new Reporter(total, started);
        EventPublisher publisher = newPublisher(planned);
        try (publisher) {
            new WorkloadPlanner(config).plan(record -> {
                if (pacing != null) {
                    pacing.acquire();
                }
                beforePublish.accept(record);
                sends.track(publish(publisher, record));
                reporter.maybeReport(sends);
            }, GroundTruthSink.both(truth, totals));
            publisher.flush();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        reporter.report(sends, System.nanoTime());
        if (sends.failed.get() > 0) {
            throw new WorkloadPublishException(sends.failed.get() + " of " + sends.sent + " records were not acknowledged",
                    sends.failed.get(), sends.firstFailure.get());
        }
        GroundTruth.Totals counts = totals.totals();
        double seconds = Math.max(1e-9, elapsed.toNanos() / 1e9);
        return new GenerationSummary(counts.records(), counts.recordsPerTopic(), counts.validEventsPerType(),
                counts.injectedPerKind(), elapsed, counts.records() / seconds, publisher.metrics());
    }

    private EventPublisher newPublisher(GroundTruth.Totals planned) {
        // Simulated event times may lie far from today, and the publisher checks them against the wall clock.
        long now = System.currentTimeMillis();
        Duration farthest = Duration.ofMillis(Math.max(Math.abs(planned.earliestTimestamp() - now),
                Math.abs(planned.latestTimestamp() - now)));
        EventPublisher.Builder builder = EventPublisher.builder()
                .bootstrapServers(config.bootstrapServers())
                .format(config.format())
                .topics(config.topics())
                .maxClockSkew(EventValidator.DEFAULT_MAX_CLOCK_SKEW.plus(farthest))
                .producerProperty("client.id", "horizons-generator");
        config.producerProperties().forEach(builder::producerProperty);
        return builder.build();
    }

    private static CompletableFuture<RecordMetadata> publish(EventPublisher publisher, PlannedRecord record) {
        if (record instanceof PlannedRecord.RawRecord raw) {
            return publisher.sendRaw(raw.topic(), raw.key(), raw.value(), raw.timestamp(), raw.headers());
        }
        PlannedRecord.ValidEvent valid = (PlannedRecord.ValidEvent) record;
        SpecificRecord event = valid.event();
        if (event instanceof JobLifecycleEvent lifecycle) {
            return publisher.publish(lifecycle);
        }
        if (event instanceof AuditTrailEvent audit) {
            return publisher.publish(audit);
        }
        // Samples and preferences carry no correlation id of their own: the planned one goes into the header.
        try (var scope = CorrelationContext.with(valid.correlationId())) {
            if (event instanceof JobMetricsEvent sample) {
                return publisher.publish(sample);
            }
            return publisher.publishPreference((NotificationPreference) event);
        }
    }

    /** Outcome counters; acknowledgements arrive on the producer's I/O thread. */
    private static final class Sends {
        long sent;
        final AtomicLong acknowledged = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

        void track(CompletableFuture<RecordMetadata> send) {
            sent++;
            send.whenComplete((metadata, error) -> {
                if (error == null) {
                    acknowledged.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, error);
                }
            });
        }
    }

    private final class Reporter {
        private final long total;
        private final long started;
        private long lastReport;
        private long sentAtLastReport;

        Reporter(long total, long started) {
            this.total = total;
            this.started = started;
            this.lastReport = started;
        }

        void maybeReport(Sends sends) {
            long now = System.nanoTime();
            if (listener != null && now - lastReport >= REPORT_INTERVAL_NANOS) {
                report(sends, now);
            }
        }

        void report(Sends sends, long now) {
            if (listener == null) {
                return;
            }
            double rate = (sends.sent - sentAtLastReport) / Math.max(1e-9, (now - lastReport) / 1e9);
            Duration eta = rate > 0 ? Duration.ofMillis((long) ((total - sends.sent) / rate * 1000)) : null;
            listener.onProgress(new GenerationProgress(sends.sent, total, sends.acknowledged.get(), sends.failed.get(),
                    rate, Duration.ofNanos(now - started), eta));
            lastReport = now;
            sentAtLastReport = sends.sent;
        }
    }
}
