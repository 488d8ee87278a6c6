package io.cosmichorizons.bench;

import io.cosmichorizons.generator.GenerationSummary;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.pipeline.InProcessFlink;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.audit.AuditJob;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.waiting.Poll;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;

/** Runs the bench phases in order and writes the report. */
public final class BenchRunner {

    /** What to run; see {@code bin/horizons bench --help} for each. */
    public record Options(boolean quick, long events, int parallelism, Duration checkpoint, List<Integer> latencyRates,
            List<Duration> latencyCheckpoints, Duration latencyDuration, long soakEvents, int soakJobs, Duration soakCheckpoint,
            Set<String> phases, Path output, Path dataDir, String bootstrapServers, String jdbcUrl, boolean keep, Path jfr,
            boolean rocksDb, int soakManagedMemoryPerSlotMb) {
        public static final List<String> PHASES = List.of("e2e", "baseline", "latency", "soak", "jmh");
        /** The full run's workloads (the benchmark issue's), the defaults without --quick. */
        public static final long FULL_EVENTS = 2_000_000;
        public static final List<Integer> FULL_LATENCY_RATES = List.of(1_000, 5_000, 20_000);
        public static final List<Duration> FULL_LATENCY_CHECKPOINTS =
                List.of(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(5));
        public static final Duration FULL_LATENCY_DURATION = Duration.ofSeconds(60);
        public static final long FULL_SOAK_EVENTS = 10_000_000;
        public static final int FULL_SOAK_JOBS = 1_000_000;

        /** Whether this is the full run: every phase, at the full workloads. */
        public boolean fullRun() {
            return !quick && events == FULL_EVENTS && latencyRates.equals(FULL_LATENCY_RATES)
                    && latencyCheckpoints.equals(FULL_LATENCY_CHECKPOINTS) && latencyDuration.equals(FULL_LATENCY_DURATION)
                    && soakEvents == FULL_SOAK_EVENTS && soakJobs == FULL_SOAK_JOBS && phases.containsAll(PHASES);
        }
    }

    private final Options o;
    private final Consumer<String> log;
    private final BenchResults results = new BenchResults();
    private int preloadedJobs;

    public BenchRunner(Options options, Consumer<String> log) {
        this.o = options;
        this.log = log;
    }

    /** Runs everything asked for; returns the report's path. */
    public Path run() throws Exception {
        long started = System.nanoTime();
        results.quick = o.quick();
        results.fullRun = o.fullRun();
        machine();
        String loadBefore = loadAverage();
        log.accept("Load average before: " + loadBefore);
        Path data = o.dataDir() != null ? o.dataDir() : Files.createTempDirectory("horizons-bench");
        log.accept("Starting Kafka and PostgreSQL ...");
        try (BenchStack stack = BenchStack.start(o.bootstrapServers(), o.jdbcUrl(), data, o.keep())) {
            stack.summary().forEach(l -> log.accept("  " + l));
            Map<String, String> durability = stack.durability();
            log.accept("  PostgreSQL " + durability);
            settings(stack, durability);
            try (jdk.jfr.Recording recording = o.jfr() == null ? null
                    : new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"))) {
                if (recording != null) {
                    recording.setToDisk(true);
                    recording.setDestination(o.jfr());
                    recording.start(); // written to the destination when closed
                    log.accept("JDK Flight Recorder (settings 'profile') records the Flink phases to " + o.jfr());
                }
                int slots = InProcessFlink.slotsFor(o.parallelism());
                if (o.phases().contains("e2e") || o.phases().contains("baseline") || o.phases().contains("latency")) {
                    try (InProcessFlink flink = InProcessFlink.start(0, data.resolve("checkpoints"), slots)) {
                        log.accept("Flink MiniCluster: " + flink.restUrl() + " (" + slots + " slots, "
                                + InProcessFlink.MANAGED_MEMORY_PER_SLOT_MB + " MB managed memory per slot)");
                        BenchStack.TopicSet preloaded = null;
                        if (o.phases().contains("e2e") || o.phases().contains("baseline")) {
                            preloaded = preload(stack);
                        }
                        if (o.phases().contains("e2e")) {
                            endToEnd(stack, flink, preloaded);
                        }
                        if (o.phases().contains("baseline")) {
                            auditVersusBaseline(stack, flink, preloaded);
                        }
                        if (o.phases().contains("latency")) {
                            latency(stack, flink);
                        }
                    }
                }
                if (o.phases().contains("soak")) {
                    // A TaskManager sized for the soak's state: a million jobs' RocksDB state does not fit the block
                    // cache of the cluster's default share, and every miss reads and decompresses a block of the SST
                    // files (profiling section, Fix 12).
                    try (InProcessFlink flink = InProcessFlink.start(0, data.resolve("soak-checkpoints"), slots,
                            o.soakManagedMemoryPerSlotMb())) {
                        log.accept("\nFlink MiniCluster for the soak: " + flink.restUrl() + " (" + slots + " slots, "
                                + o.soakManagedMemoryPerSlotMb() + " MB managed memory per slot)");
                        soak(stack, flink);
                    }
                }
            }
        }
        if (o.phases().contains("jmh")) {
            log.accept("\n(e) JMH microbenchmarks (forked JVMs) ...");
            results.micro = Micro.run(o.quick());
            results.micro.forEach(s -> log.accept(String.format(Locale.ROOT, "  %-24s %,14.0f ops/s ± %,.0f",
                    s.benchmark(), s.opsPerSecond(), s.error())));
        }
        String loadAfter = loadAverage();
        results.settings.put("Load average (1/5/15 min) before / after", loadBefore + " / " + loadAfter);
        results.settings.put("Bench wall time", String.format(Locale.ROOT, "%.1f min", (System.nanoTime() - started) / 60e9));
        Path report = Report.write(results, o.output());
        log.accept("\nResults (load average before " + loadBefore + ", after " + loadAfter + "):");
        Report.print(results, log);
        log.accept("\nReport: " + report + "; CSVs and plots in " + o.output().resolve(Report.DATA_DIR));
        return report;
    }

    // ------------------------------------------------------------------------------------------------ phases

    /** The generator's realistic mix, --events of it, preloaded into the e2e topics (read by phases a and b). */
    private BenchStack.TopicSet preload(BenchStack stack) throws Exception {
        log.accept(String.format(Locale.ROOT, "%nPreloading %,d events of the realistic mix ...", o.events()));
        BenchStack.TopicSet topics = stack.newTopics("e2e");
        GeneratorConfig.Builder mix = Workloads.mix(stack.bootstrapServers(), topics).inject(Workloads.REALISTIC);
        preloadedJobs = Workloads.jobsFor(o.events(), mix);
        GenerationSummary preload = Workloads.preload(mix.jobs(preloadedJobs).seed(1).build(), log);
        List<String> inputs = List.of(topics.lifecycle(), topics.inputs().metrics(), topics.inputs().auditTrail(),
                topics.inputs().notificationPreferences());
        for (String t : inputs) {
            results.endToEndTopics.put(t.substring(topics.prefix().length()), Lag.records(stack.admin(), List.of(t)));
        }
        long input = results.endToEndTopics.values().stream().mapToLong(Long::longValue).sum();
        if (preload.records() != input) {
            results.notes.add("The generator reported " + preload.records() + " records; the topics hold " + input + ".");
        }
        return topics;
    }

    private void endToEnd(BenchStack stack, InProcessFlink flink, BenchStack.TopicSet topics) throws Exception {
        log.accept("\n(a) End-to-end: every job from offset 0 over the preloaded events");
        String db = stack.newDatabase("e2e");
        int jobs = preloadedJobs;
        long input = results.endToEndTopics.values().stream().mapToLong(Long::longValue).sum();
        Settings settings = Workloads.jobSettings(stack, topics, db, "e2e", o.checkpoint(), o.parallelism(), o.rocksDb(), Map.of());
        Map<String, List<String>> groups = new LinkedHashMap<>();
        groups.put(Workloads.groupId(stack, "e2e", "lifecycle"), List.of(topics.lifecycle()));
        groups.put(Workloads.groupId(stack, "e2e", "lifecycle") + "-preferences", List.of(topics.inputs().notificationPreferences()));
        groups.put(Workloads.groupId(stack, "e2e", "metrics"), List.of(topics.lifecycle(), topics.inputs().metrics()));
        groups.put(Workloads.groupId(stack, "e2e", "audit"), List.of(topics.lifecycle(), topics.inputs().auditTrail()));
        log.accept(String.format(Locale.ROOT, "  running %s from offset 0 over %,d input records (%,d jobs simulated; %s) ...",
                PipelineJobs.ALL.stream().map(PipelineJob::name).toList(), input, jobs, results.endToEndTopics));
        results.endToEnd = PipelineDrain.run(flink, stack, new PipelineDrain.Plan(PipelineJobs.ALL, settings, groups),
                input, Duration.ofMillis(500), false, Duration.ofHours(2), log);
        log.accept(String.format(Locale.ROOT, "  RESULT end-to-end: %,d events in %.1f s = %,.0f events/s; sustained (10-90 %%) %,.0f events/s",
                input, results.endToEnd.seconds(), results.endToEnd.overall(), results.endToEnd.sustained()));
        verify(db);
    }

    private void verify(String db) {
        try {
            LedgerVerifier.Report v = new LedgerVerifier(db, LedgerVerifier.Options.of(List.of(Workloads.MAC_KEY), List.of())).verify();
            results.verificationRowsPerSecond = v.entriesPerSecond();
            results.verifiedEntries = v.entries();
            results.verificationClean = v.clean();
            log.accept(String.format(Locale.ROOT, "  RESULT audit ledger verification: %,d entries, %s, %,.0f rows/s",
                    v.entries(), v.clean() ? "clean" : "BROKEN", v.entriesPerSecond()));
            // The verifier's own account (one physical-order pass, or chains re-read in seq order) explains its rate.
            log.accept(v.render().strip().indent(4).stripTrailing());
        } catch (Exception e) {
            results.notes.add("Ledger verification failed: " + e);
            log.accept("  ledger verification failed: " + e);
        }
    }

    private void auditVersusBaseline(BenchStack stack, InProcessFlink flink, BenchStack.TopicSet topics) throws Exception {
        long lifecycle = Lag.records(stack.admin(), List.of(topics.lifecycle()));
        log.accept(String.format(Locale.ROOT, "%n(b) Audit job alone vs the hand-written baseline, %,d preloaded lifecycle records each", lifecycle));
        String flinkDb = stack.newDatabase("audit_flink");
        Map<String, String> only = new LinkedHashMap<>();
        only.put("topics.audit-trail", topics.empty()); // the same input as the baseline: lifecycle events only
        Settings settings = Workloads.jobSettings(stack, topics, flinkDb, "auditonly", o.checkpoint(), o.parallelism(), o.rocksDb(), only);
        Map<String, List<String>> groups = Map.of(Workloads.groupId(stack, "auditonly", "audit"), List.of(topics.lifecycle(), topics.empty()));
        log.accept("  Flink audit job (parallelism " + o.parallelism() + ") ...");
        results.flinkAudit = PipelineDrain.run(flink, stack, new PipelineDrain.Plan(List.of(new AuditJob.Definition()), settings, groups),
                lifecycle, Duration.ofMillis(250), false, Duration.ofHours(1), log);
        log.accept(String.format(Locale.ROOT, "  RESULT Flink audit: %,.0f lifecycle events/s sustained (%,.0f overall)",
                results.flinkAudit.sustained(), results.flinkAudit.overall()));
        String baselineDb = stack.newDatabase("audit_baseline");
        log.accept("  baseline consumer (single thread, batched, at-least-once) ...");
        results.baseline = BaselineAuditConsumer.run(stack.bootstrapServers(), topics.lifecycle(),
                "bench-" + stack.runId() + "-baseline", baselineDb, Workloads.MAC_KEY, 2_000, 10_000, log);
        log.accept(String.format(Locale.ROOT, "  RESULT baseline: %,.0f lifecycle events/s sustained (%,.0f overall; %,d entries, %,d rejected, %,d duplicates)",
                results.baseline.sustained(), results.baseline.rate(), results.baseline.entries(), results.baseline.rejected(),
                results.baseline.duplicates()));
        log.accept(String.format(Locale.ROOT, "  RESULT audit throughput / baseline = %.2f", results.auditRatio()));
    }

    private void latency(BenchStack stack, InProcessFlink flink) throws Exception {
        log.accept(String.format(Locale.ROOT, "%n(c) Latency: rates %s ev/s x checkpoint intervals %s, %d s each",
                o.latencyRates(), o.latencyCheckpoints().stream().map(d -> d.toMillis() + "ms").toList(), o.latencyDuration().toSeconds()));
        String db = stack.newDatabase("latency");
        int cell = 0;
        for (Duration checkpoint : o.latencyCheckpoints()) {
            for (int rate : o.latencyRates()) {
                cell++;
                try {
                    latencyCell(stack, flink, db, cell, checkpoint, rate);
                } catch (Exception e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    String note = String.format(Locale.ROOT, "Latency cell %,d ev/s / %d ms failed: %s (%s)", rate,
                            checkpoint.toMillis(), e.getMessage(), cause);
                    results.notes.add(note);
                    log.accept("  " + note);
                }
            }
        }
    }

    private void latencyCell(BenchStack stack, InProcessFlink flink, String db, int cell, Duration checkpoint, int rate)
            throws Exception {
        String phase = "lat" + cell;
        BenchStack.TopicSet topics = stack.newTopics(phase);
        Settings settings = Workloads.jobSettings(stack, topics, db, phase, checkpoint, o.parallelism(), o.rocksDb(),
                Map.of("alerts.delivery", "at-least-once"));
        List<JobID> ids = flink.submitAll(PipelineJobs.ALL, settings);
        try {
            measureCell(stack, flink, topics, ids, cell, checkpoint, rate);
        } finally {
            for (JobID id : ids) {
                flink.cancel(id);
            }
        }
    }

    private void measureCell(BenchStack stack, InProcessFlink flink, BenchStack.TopicSet topics, List<JobID> ids, int cell,
            Duration checkpoint, int rate) throws Exception {
        awaitRunning(flink, ids);
        GeneratorConfig paced = LatencyProbe.paced(Workloads.mix(stack.bootstrapServers(), topics), rate,
                o.latencyDuration(), 1000 + cell);
        double achieved;
        double[] notifications;
        double[] alerts;
        Duration warmup = Duration.ofNanos(Math.max(3_000_000_000L, o.latencyDuration().toNanos() / 5));
        try (LatencyProbe probe = new LatencyProbe(stack.bootstrapServers(), topics.notifications(), topics.alerts(),
                Duration.ofSeconds(30), warmup)) {
            GenerationSummary sent = Workloads.paced(paced, probe::beforePublish, log);
            achieved = sent.ratePerSecond();
            // Let the last checkpoint commit the last notifications.
            boolean allSeen = Poll.until(checkpoint.multipliedBy(3).plusSeconds(20), Duration.ofMillis(100),
                    () -> probe.notificationsSeen() >= probe.terminalEvents());
            if (!allSeen && Thread.interrupted()) {
                throw new InterruptedException("Interrupted while waiting for the last notifications");
            }
            if (probe.failure() != null) {
                throw new IllegalStateException("Latency reader failed", probe.failure());
            }
            notifications = probe.notificationLatencies().sorted();
            alerts = probe.alertLatencies().sorted();
            if (probe.notificationsSeen() < probe.terminalEvents()) {
                results.notes.add(String.format(Locale.ROOT, "Latency cell %,d ev/s / %d ms: %,d of %,d notifications "
                        + "seen before the deadline (the pipeline fell behind).", rate, checkpoint.toMillis(),
                        probe.notificationsSeen(), probe.terminalEvents()));
            }
        }
        BenchResults.LatencyCell c = new BenchResults.LatencyCell(rate, checkpoint.toMillis(), achieved, notifications, alerts);
        results.latency.add(c);
        BenchResults.Percentiles n = c.notificationPercentiles();
        BenchResults.Percentiles a = c.alertPercentiles();
        log.accept(String.format(Locale.ROOT, "  RESULT %,6d ev/s (achieved %,.0f), checkpoint %5d ms: notification p50 %s p95 %s p99 %s ms (n=%,d); alert p50 %s p99 %s ms (n=%,d)",
                rate, achieved, checkpoint.toMillis(), Report.num(n.p50()), Report.num(n.p95()), Report.num(n.p99()),
                n.count(), Report.num(a.p50()), Report.num(a.p99()), a.count()));
        // What bounds the exactly-once latency: a notification is visible once the checkpoint after it completes.
        String restUrl = flink.restUrl();
        for (int i = 0; i < ids.size(); i++) {
            log.accept(String.format(Locale.ROOT, "    %-10s %s", PipelineJobs.ALL.get(i).name(),
                    Resources.checkpointDurations(restUrl, ids.get(i))));
        }
    }

    private void soak(BenchStack stack, InProcessFlink flink) throws Exception {
        log.accept(String.format(Locale.ROOT, "%n(d) Memory soak: %,d events over %,d jobs, RocksDB state", o.soakEvents(), o.soakJobs()));
        BenchStack.TopicSet topics = stack.newTopics("soak");
        String db = stack.newDatabase("soak");
        GeneratorConfig.Builder mix = Workloads.mix(stack.bootstrapServers(), topics);
        Workloads.SampleInterval interval = Workloads.metricsIntervalFor(mix, (double) o.soakEvents() / o.soakJobs());
        mix.metricsIntervalSeconds(interval.seconds());
        log.accept(String.format(Locale.ROOT, "  one metrics sample per %d s of run time: %.2f records per job planned",
                interval.seconds(), interval.recordsPerJob()));
        Workloads.preload(mix.jobs(o.soakJobs()).seed(2).build(), log);
        List<String> inputs = List.of(topics.lifecycle(), topics.inputs().metrics(), topics.inputs().auditTrail(),
                topics.inputs().notificationPreferences());
        long input = Lag.records(stack.admin(), inputs);
        results.soakJobs = o.soakJobs();
        // The samples come every interval.seconds(), not the default minute: an operator sets the expected heartbeat to
        // match, else every gap between two samples opens and resolves a MISSING_HEARTBEAT alert.
        Settings settings = Workloads.jobSettings(stack, topics, db, "soak", o.soakCheckpoint(), o.parallelism(), true,
                Map.of("health.heartbeat-interval", interval.seconds() + "s"));
        Map<String, List<String>> groups = new LinkedHashMap<>();
        groups.put(Workloads.groupId(stack, "soak", "lifecycle"), List.of(topics.lifecycle()));
        groups.put(Workloads.groupId(stack, "soak", "metrics"), List.of(topics.lifecycle(), topics.inputs().metrics()));
        groups.put(Workloads.groupId(stack, "soak", "audit"), List.of(topics.lifecycle(), topics.inputs().auditTrail()));
        results.soak = PipelineDrain.run(flink, stack, new PipelineDrain.Plan(PipelineJobs.ALL, settings, groups), input,
                Duration.ofSeconds(o.quick() ? 2 : 5), true, Duration.ofHours(6), log);
        log.accept(String.format(Locale.ROOT, "  RESULT soak: %,d events in %.0f s; heap-after-GC growth %.1f MB",
                input, results.soak.seconds(), results.soakHeapGrowthMb()));
        log.accept("  alerts raised (alerts table, by type and state): " + BenchStack.alertCounts(db));
    }

    private static void awaitRunning(InProcessFlink flink, List<JobID> ids) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (JobID id : ids) {
            // The 120 s are for all jobs together: each waits for what the ones before it left.
            boolean running = Poll.until(Duration.ofNanos(deadline - System.nanoTime()), Duration.ofMillis(100), () -> {
                try {
                    return flink.miniCluster().getJobStatus(id).get(10, TimeUnit.SECONDS) == JobStatus.RUNNING;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while reading the status of job " + id, e);
                } catch (ExecutionException | TimeoutException e) {
                    throw new IllegalStateException("Cannot read the status of job " + id, e);
                }
            });
            if (!running) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("Interrupted while waiting for job " + id + " to run");
                }
                throw new IllegalStateException("Job " + id + " not running after 120 s");
            }
        }
    }

    // ---------------------------------------------------------------------------------------- machine, settings

    private void machine() {
        Map<String, String> m = results.machine;
        m.put("CPU", cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        m.put("Memory", String.format(Locale.ROOT, "%.1f GiB", totalMemoryGiB()));
        m.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB, "
                + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(a -> a.startsWith("-Xm") || a.startsWith("-XX")).toList()));
        m.put("Everything on this one machine", "Kafka broker (child JVM), PostgreSQL, the Flink MiniCluster, the generator "
                + "and the readers share the cores");
    }

    private void settings(BenchStack stack, Map<String, String> durability) {
        Map<String, String> s = results.settings;
        s.put("Services", String.join("; ", stack.summary()));
        s.put("PostgreSQL durability", "fsync=" + durability.get("fsync") + ", synchronous_commit="
                + durability.get("synchronous_commit") + ", full_page_writes=" + durability.get("full_page_writes")
                + " (the embedded server is started with all three ON for the benchmark; zonky's default is off); "
                + "wal_level=" + durability.get("wal_level") + ", shared_buffers=" + durability.get("shared_buffers")
                + ", PostgreSQL " + durability.get("server_version"));
        s.put("Flink", "MiniCluster in the bench JVM, 1 TaskManager, parallelism " + o.parallelism()
                + " per job, max parallelism 128, exactly-once checkpoints, state backend "
                + (o.rocksDb() ? "RocksDB with incremental checkpoints (as flink-conf/config.yaml)" : "heap (HashMapStateBackend, full snapshots)")
                + " (the soak: always RocksDB); managed memory (RocksDB's block cache and write buffers) "
                + InProcessFlink.MANAGED_MEMORY_PER_SLOT_MB + " MB per slot, a slot's share on the cluster's TaskManager; "
                + "the soak: a MiniCluster of its own with " + o.soakManagedMemoryPerSlotMb() + " MB per slot, sized for "
                + "its state (--soak-managed-memory-per-slot)");
        s.put("Checkpoint interval", "end-to-end and audit " + o.checkpoint().toMillis() + " ms; soak "
                + o.soakCheckpoint().toMillis() + " ms");
        s.put("Kafka outputs", "transactional (EXACTLY_ONCE), read with read_committed; in the latency runs the alerts "
                + "topic is at-least-once (alerts.delivery=at-least-once; stable alert ids)");
        s.put("PostgreSQL outputs", "flink-connector-jdbc at-least-once, batches of 500 rows or 200 ms, idempotent upserts / inserts");
        s.put("Input", Topics.INPUT_PARTITIONS + " partitions per input topic; Avro single-object encoding; the generator's "
                + "realistic mix (lifecycle, metrics samples, audit-trail actions, preferences) with 0.5 % duplicates, "
                + "1 % out-of-order and 0.5 % malformed lifecycle records (the latency runs: clean input)");
        s.put("Workloads", String.format(Locale.ROOT, "end-to-end %,d events; latency %s ev/s x %s, %d s each; soak %,d events over %,d jobs",
                o.events(), o.latencyRates(), o.latencyCheckpoints().stream().map(d -> d.toMillis() + " ms").toList(),
                o.latencyDuration().toSeconds(), o.soakEvents(), o.soakJobs()));
        s.put("Phases run", String.join(", ", o.phases()));
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }

    private static double totalMemoryGiB() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0;
                }
            }
        } catch (IOException e) {
            // unknown
        }
        return Double.NaN;
    }

    /** Phases from a comma-separated list; all of them for null. */
    public static List<String> phases(String list) {
        if (list == null || list.isBlank()) {
            return Options.PHASES;
        }
        List<String> out = new ArrayList<>();
        for (String p : list.split(",")) {
            String phase = p.strip().toLowerCase(Locale.ROOT);
            if (!Options.PHASES.contains(phase)) {
                throw new IllegalArgumentException("Unknown phase '" + p + "'; phases are " + Options.PHASES);
            }
            out.add(phase);
        }
        return out;
    }
}
