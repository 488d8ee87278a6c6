package io.cosmichorizons.bench;

import io.cosmichorizons.generator.GenerationSummary;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruthSink;
import io.cosmichorizons.generator.PlannedRecord;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.generator.WorkloadPlanner;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.publisher.WireFormat;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntToDoubleFunction;

/** The generator's realistic mix, sized in events, and the jobs' settings for a phase. */
final class Workloads {
    /** The MAC key of the bench ledgers (not a secret: benchmark data only). */
    static final MacKey MAC_KEY = MacKey.of("bench", "YmVuY2htYXJrIE1BQyBrZXkgKG5vdCBhIHNlY3JldCk=");

    /** Injected bad input of the preloaded mix: like the demo's, so the dead-letter paths carry load too. */
    static final GeneratorConfig.Injection REALISTIC = new GeneratorConfig.Injection(0.005, 0.01, 0.005);

    private Workloads() {}

    /** A generator config for {@code bootstrap} and the topics of {@code topics}; the caller sets jobs, rate, seed. */
    static GeneratorConfig.Builder mix(String bootstrap, BenchStack.TopicSet topics) {
        return GeneratorConfig.builder()
                .bootstrapServers(bootstrap)
                .topics(topics.inputs())
                .format(WireFormat.AVRO)
                .producerProperty("linger.ms", "20")
                .producerProperty("batch.size", String.valueOf(256 * 1024))
                .producerProperty("compression.type", "lz4");
    }

    /** Average records per simulated job of the mix (planned, not sent), to size a workload in events. */
    static double recordsPerJob(GeneratorConfig.Builder mix) {
        int sample = 2_000;
        GeneratorConfig c = mix.build().toBuilder().jobs(sample).seed(99).build();
        return (double) new WorkloadPlanner(c).plannedTotals().records() / sample;
    }

    /** A metrics sample interval and the records per job it gives the mix. */
    record SampleInterval(int seconds, double recordsPerJob) {}

    /**
     * The metrics sample interval, in whole seconds, that brings the mix closest to {@code recordsPerJob} records per
     * job: the soak fixes both its events and its jobs, so the samples per job are its only knob. Records per job do
     * not grow with the interval, so a bisection finds it. (A handful of round intervals used to be tried instead,
     * and the closest of them gave 8.45 records per job for the soak's 10.) {@code mix} is left as it was.
     */
    static SampleInterval metricsIntervalFor(GeneratorConfig.Builder mix, double recordsPerJob) {
        GeneratorConfig.Builder trial = mix.build().toBuilder();
        // Each evaluation plans a sample of jobs; the bisection and the final comparison share them.
        Map<Integer, Double> planned = new HashMap<>();
        IntToDoubleFunction records = s -> planned.computeIfAbsent(s, k -> recordsPerJob(trial.metricsIntervalSeconds(k)));
        int lo = 1;
        int hi = 86_400;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (records.applyAsDouble(mid) <= recordsPerJob) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        // lo is the shortest interval at or below the target; the one before it is above.
        if (lo > 1 && Math.abs(records.applyAsDouble(lo - 1) - recordsPerJob)
                < Math.abs(records.applyAsDouble(lo) - recordsPerJob)) {
            lo--;
        }
        return new SampleInterval(lo, records.applyAsDouble(lo));
    }

    /** Jobs so that the workload has about {@code events} records. */
    static int jobsFor(long events, GeneratorConfig.Builder mix) {
        return (int) Math.max(10, Math.round(events / recordsPerJob(mix)));
    }

    /** Publishes the workload as fast as possible, printing progress every 5 s. */
    static GenerationSummary preload(GeneratorConfig config, Consumer<String> log) {
        GenerationSummary summary = new WorkloadGenerator(config).onProgress(progress(log)).run(GroundTruthSink.discard());
        log.accept(String.format(Locale.ROOT, "  preloaded %,d records in %.1f s (%,.0f records/s): %s",
                summary.records(), summary.elapsed().toMillis() / 1000.0, summary.ratePerSecond(),
                summary.recordsPerTopic()));
        return summary;
    }

    /** Publishes at a fixed rate, calling {@code beforePublish} for each record; progress every 5 s. */
    static GenerationSummary paced(GeneratorConfig config, Consumer<? super PlannedRecord> beforePublish,
            Consumer<String> log) {
        return new WorkloadGenerator(config).beforePublish(beforePublish).onProgress(progress(log))
                .run(GroundTruthSink.discard());
    }

    private static io.cosmichorizons.generator.ProgressListener progress(Consumer<String> log) {
        long[] last = {System.nanoTime()};
        return p -> {
            long now = System.nanoTime();
            if (now - last[0] >= 5_000_000_000L) {
                last[0] = now;
                log.accept(String.format(Locale.ROOT, "  sent %,d / %,d records (%.0f %%), %,.0f records/s",
                        p.sent(), p.total(), 100.0 * p.sent() / Math.max(1, p.total()), p.ratePerSecond()));
            }
        };
    }

    /**
     * The jobs' settings for one phase: its topics, database and consumer groups (suffixed by {@code phase}, so
     * every phase starts from offset 0), exactly-once checkpoints at {@code checkpoint}.
     */
    static Settings jobSettings(BenchStack stack, BenchStack.TopicSet topics, String jdbcUrl, String phase,
            Duration checkpoint, int parallelism, boolean rocksDb, Map<String, String> extra) {
        Map<String, String> s = new LinkedHashMap<>(topics.settings());
        s.put(Settings.KAFKA_BOOTSTRAP_SERVERS, stack.bootstrapServers());
        s.put(Settings.JDBC_URL, jdbcUrl);
        s.put("checkpoint.interval", checkpoint.toMillis() + "ms");
        s.put("parallelism", String.valueOf(parallelism));
        s.put("state.rocksdb", String.valueOf(rocksDb));
        s.put("lifecycle.group-id", groupId(stack, phase, "lifecycle"));
        s.put("metrics.group-id", groupId(stack, phase, "metrics"));
        s.put("audit.group-id", groupId(stack, phase, "audit"));
        s.put("audit.mac-key-id", MAC_KEY.id());
        s.put("audit.mac-key", java.util.Base64.getEncoder().encodeToString(MAC_KEY.key()));
        s.putAll(extra);
        return Settings.of(s);
    }

    static String groupId(BenchStack stack, String phase, String job) {
        return "bench-" + stack.runId() + "-" + phase + "-" + job;
    }
}
