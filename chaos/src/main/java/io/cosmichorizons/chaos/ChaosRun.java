package io.cosmichorizons.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.cluster.ClusterStatus;
import io.cosmichorizons.cluster.FlinkRestClient;
import io.cosmichorizons.cluster.JobHistory;
import io.cosmichorizons.cluster.JobJar;
import io.cosmichorizons.cluster.JobSubmitter;
import io.cosmichorizons.cluster.LocalCluster;
import io.cosmichorizons.generator.GenerationProgress;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.testbed.EmbeddedKafka;
import io.cosmichorizons.testbed.EmbeddedPostgresServer;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.verification.AlertRules;
import io.cosmichorizons.verification.Comparison;
import io.cosmichorizons.verification.Finding;
import io.cosmichorizons.verification.OutputComparison;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.verification.Pipeline;
import io.cosmichorizons.verification.PublishedInputs;
import io.cosmichorizons.waiting.Poll;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A chaos run, after Flink's test_ha_datastream end-to-end test: every pipeline job on the real local cluster, a
 * generated workload with injected bad records, faults injected in turn while it runs (TaskManagers killed right after
 * completed checkpoints, the JobManager killed and recovered as the runbook says, Kafka and PostgreSQL stopped and
 * restarted), fuzzed records in every input topic, optionally a rescale through savepoints; then every output is
 * compared with the ground truth.
 */
public final class ChaosRun {

    /**
     * Where the run happens. The embedded services are needed for their faults; external ones skip them.
     *
     * @param jobJar the job jar the run starts with
     * @param nextJobJar the job jar of a next release, with a compatible contract change ({@link JobJar#locateNext}),
     *     which the rescale upgrades to; empty: the rescale resubmits {@code jobJar}
     */
    public record Environment(String bootstrapServers, String jdbcUrl, String topicPrefix,
            Optional<EmbeddedKafka> kafka, Optional<EmbeddedPostgresServer> postgres, Path home, Path runDirectory,
            Path jobJar, Optional<Path> nextJobJar) {}

    /** One fault and how long the pipeline took to recover from it. Null durations: not measured or not reached. */
    public record Recovery(String fault, Instant at, Duration outage, Duration toCheckpoint, Duration toLagUnderOneSecond,
            String note) {}

    /** What happened, and what was compared (the inputs and outputs, for planting faults in a copy). */
    public record Result(ChaosOptions options, long events, long fuzzed, Map<String, Long> fuzzedByMutation,
            List<Recovery> recoveries, Comparison comparison, long restartsDuringFuzzing, Duration took, List<String> log,
            PublishedInputs published, OutputSnapshot outputs) {}

    static final Duration TIMEOUT = Duration.ofMinutes(4);
    static final MacKey MAC_KEY = MacKey.of("chaos", "Y2hhb3MgcnVuIGF1ZGl0IE1BQyBrZXksIG5vdCBhIHNlY3JldA==");

    private final ChaosOptions options;
    private final Environment env;
    private final Consumer<String> progress;
    private final List<String> log = new ArrayList<>();
    private final List<Recovery> recoveries = new ArrayList<>();
    private final Map<String, String> settings;
    private LocalCluster cluster;
    private FlinkRestClient rest;
    private JobHistory history;
    private Map<String, String> jobIds = new LinkedHashMap<>();
    private int parallelism;
    /** The job jar the jobs run from: env.jobJar(), until an upgrade. */
    private Path jar;
    /** Cluster processes that exited without the run killing them (e.g. a TaskManager dying on a JDBC outage). */
    private final List<String> unexpectedExits = new ArrayList<>();

    public ChaosRun(ChaosOptions options, Environment env, Consumer<String> progress) {
        this.options = options;
        this.env = env;
        this.progress = progress;
        this.settings = settings(env, options);
        this.parallelism = options.initialParallelism();
        this.jar = env.jobJar();
    }

    /** The settings of every job: this run's topics, groups and services, and outputs that depend on events only. */
    static Map<String, String> settings(Environment env, ChaosOptions options) {
        Map<String, String> s = new TreeMap<>();
        Set<String> topicNames = Topics.ALL.stream().map(Topics.TopicSpec::name).collect(Collectors.toSet());
        for (PipelineJob job : PipelineJobs.ALL) {
            for (Option o : job.options()) {
                if (o.key().startsWith("topics.") && topicNames.contains(o.defaultValue())) {
                    s.put(o.key(), env.topicPrefix() + o.defaultValue());
                } else if (o.key().endsWith("group-id") && o.defaultValue() != null) {
                    s.put(o.key(), env.topicPrefix() + o.defaultValue());
                }
            }
        }
        s.put(Settings.KAFKA_BOOTSTRAP_SERVERS, env.bootstrapServers());
        s.put(Settings.JDBC_URL, env.jdbcUrl());
        s.put("checkpoint.interval", options.checkpointInterval().toMillis() + "ms");
        s.put("jdbc.batch-interval", "50ms");
        // Records above this are TOO_LARGE: the fuzzer's huge fields exceed it while staying under the broker's limit.
        s.put("decoder.max-record-bytes", String.valueOf(Fuzzer.MAX_RECORD_BYTES));
        // Lag alerts are wall-clock by design (and the generated events are days old), as is the fallback that fires
        // job deadlines once the watermark stalls: keep them out of a comparison with event-time ground truth.
        s.put("health.event-time-lag", "3650d");
        s.put("health.watermark-lag", "3650d");
        s.put("health.idle-timeout", "1h");
        s.put("audit.mac-key", Base64.getEncoder().encodeToString(MAC_KEY.key()));
        s.put("audit.mac-key-id", MAC_KEY.id());
        return s;
    }

    public Result run() throws Exception {
        Instant started = Instant.now();
        cluster = LocalCluster.builder()
                .home(env.home())
                .runDirectory(env.runDirectory())
                .isolated()
                .dieWithParent(true)
                .set("jobmanager.memory.process.size", "768m")
                .set("taskmanager.memory.process.size", "1280m")
                // Failures noticed in seconds, retries no further apart than 5 s (production: 50 s and 1 min).
                .set("heartbeat.interval", "1s")
                .set("heartbeat.timeout", "6s")
                .set("restart-strategy.exponential-delay.initial-backoff", "200ms")
                .set("restart-strategy.exponential-delay.max-backoff", "5s")
                .build();
        try {
            cluster.start(2);
            rest = cluster.rest();
            history = new JobHistory(cluster.runDirectory().resolve("jobs"));
            say("cluster: a JobManager and 2 TaskManagers at " + rest.baseUrl());
            submit(false);

            TopicNames topics = TopicNames.defaults().withPrefix(env.topicPrefix());
            GeneratorConfig workload = GeneratorConfig.builder()
                    .bootstrapServers(env.bootstrapServers())
                    .topics(topics)
                    .jobs(options.jobs())
                    .seed(options.seed())
                    .rate(options.rate())
                    .submissionWindow(Duration.ofMinutes(60))
                    .metricsIntervalSeconds(options.metricsIntervalSeconds())
                    .inject(new GeneratorConfig.Injection(0.01, 0.02, 0.01))
                    .build();
            AtomicReference<GenerationProgress> generated = new AtomicReference<>();
            CompletableFuture<GroundTruth> feeding = CompletableFuture.supplyAsync(() -> {
                GroundTruth.Collector truth = GroundTruth.collector();
                new WorkloadGenerator(workload).onProgress(generated::set).run(truth);
                return truth.result();
            });
            await("the workload flowing and a first checkpoint of every job", () -> generated.get() != null
                    && generated.get().sent() > 0 && jobIds.values().stream().allMatch(id -> lastCompleted(id) != null));

            // Fuzzing, with no other fault meanwhile: no job may restart because of it.
            long restartsBefore = restarts();
            List<PublishedInputs.FuzzedRecord> fuzzed = List.of();
            if (options.fuzzRecords() > 0) {
                fuzzed = new Fuzzer(env.bootstrapServers(), topics, options.seed()).send(options.fuzzRecords(), this::say);
                Map<String, Long> fuzzEnds = new TreeMap<>();
                fuzzed.forEach(f -> fuzzEnds.merge(f.topic() + "/" + f.partition(), f.offset() + 1, Math::max));
                await("every job past the fuzzed records, checkpointed", () -> committedPast(fuzzEnds));
            }
            long restartsDuringFuzzing = restarts() - restartsBefore;
            say("fuzz: " + fuzzed.size() + " broken records sent; job restarts meanwhile: " + restartsDuringFuzzing);

            for (int k = 1; k <= options.taskManagerKills(); k++) {
                killTaskManagerAfterCheckpoint(k);
            }
            if (options.killJobManager()) {
                killJobManager();
            }
            if (options.kafkaOutage() != null) {
                bounceKafka(options.kafkaOutage());
            }
            if (options.postgresOutage() != null) {
                bouncePostgres(options.postgresOutage());
            }
            if (options.rescale()) {
                rescale(2, env.nextJobJar().orElse(jar));
                rescale(1, jar);
            }

            GroundTruth truth = feeding.get(30, TimeUnit.MINUTES);
            long events = truth.totals().records();
            say("workload: " + events + " records published (" + truth.jobs().size() + " jobs); waiting for the pipeline to drain");
            PublishedInputs published = PublishedInputs.read(env.bootstrapServers(), truth, fuzzed);
            awaitCaughtUp("every input record consumed and checkpointed", feeding::isDone);
            long auditEntries = published.lifecycleEventIds().size() + published.auditTrailEventIds().size();
            await("every job end notified and every event audited", () -> count("SELECT count(*) FROM notifications")
                    >= truth.jobs().size() && count("SELECT count(*) FROM audit_events") >= auditEntries);
            drainMetrics();

            OutputSnapshot outputs = OutputSnapshot.read(location(), MAC_KEY.key());
            Comparison comparison = OutputComparison.compare(published, outputs, Pipeline.ALL, alertRules());
            LedgerVerifier.Report ledger = new LedgerVerifier(env.jdbcUrl(),
                    LedgerVerifier.Options.of(List.of(MAC_KEY), List.of()).withThreads(2)).verify();
            comparison = comparison.plus(List.of(Finding.holds("audit: every chain verifies (LedgerVerifier: hashes, links, MACs)",
                    ledger.clean() && ledger.entries() == auditEntries, auditEntries + " entries, clean",
                    ledger.entries() + " entries" + (ledger.clean() ? ", clean" : ": " + ledger.render()))));
            if (options.fuzzRecords() > 0) {
                comparison = comparison.plus(List.of(Finding.equal("fuzzing: no job restarted because of the broken records",
                        0L, restartsDuringFuzzing)));
            }
            checkProcesses("the end of the run");
            comparison = comparison.plus(List.of(Finding.holds("cluster: no JobManager or TaskManager exited other than "
                    + "those the run killed", unexpectedExits.isEmpty(), "none", String.join("; ", unexpectedExits))));
            say(comparison.render());
            Map<String, Long> byMutation = fuzzed.stream().collect(Collectors.groupingBy(PublishedInputs.FuzzedRecord::kind,
                    TreeMap::new, Collectors.counting()));
            return new Result(options, events, fuzzed.size(), byMutation, List.copyOf(recoveries), comparison,
                    restartsDuringFuzzing, Duration.between(started, Instant.now()), List.copyOf(log), published, outputs);
        } finally {
            LocalCluster.StopReport stopped = cluster.stop();
            say("cluster stopped" + (stopped.killed().isEmpty() ? "" : "; killed " + stopped.killed()));
        }
    }

    /** The alert thresholds the metrics job ran with. */
    public AlertRules alertRules() {
        return AlertRules.fromSettings(settings);
    }

    /** Where this run's outputs are. */
    public OutputSnapshot.Location location() {
        return new OutputSnapshot.Location(env.jdbcUrl(), env.bootstrapServers(), env.topicPrefix());
    }

    // ------------------------------------------------------------------------------------------ faults

    private void killTaskManagerAfterCheckpoint(int k) {
        String lifecycle = jobIds.get("lifecycle");
        long seen = Optional.ofNullable(lastCompleted(lifecycle)).map(c -> c.path("id").asLong()).orElse(0L);
        await("a new completed checkpoint before kill " + k, () -> {
            JsonNode c = lastCompleted(lifecycle);
            return c != null && c.path("id").asLong() > seen;
        });
        // The TaskManager running the most tasks: at parallelism 1 every task may sit on one of the two, and killing
        // the idle one would test nothing.
        Map<Integer, Integer> slotsInUse = slotsInUse();
        int victim = slotsInUse.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue()
                .thenComparing(Map.Entry.comparingByKey(java.util.Comparator.reverseOrder()))).orElseThrow().getKey();
        long restartsBefore = restarts();
        Instant at = Instant.now();
        cluster.killTaskManager(victim);
        int replacement = cluster.startTaskManager();
        say("fault: kill -9 TaskManager " + victim + " (" + slotsInUse.get(victim) + " slots in use; slots in use per "
                + "TaskManager: " + slotsInUse + ") right after checkpoint " + (seen + 1) + "+; replacement " + replacement);
        measure("kill -9 TaskManager (" + k + " of " + options.taskManagerKills() + ")", at, at, Duration.ZERO,
                "killed the TaskManager with " + slotsInUse.get(victim) + " slots in use; replacement started at once");
        long restarted = restarts() - restartsBefore;
        Recovery last = recoveries.remove(recoveries.size() - 1);
        recoveries.add(new Recovery(last.fault(), last.at(), last.outage(), last.toCheckpoint(), last.toLagUnderOneSecond(),
                last.note() + "; job restarts it caused: " + restarted));
        say("  job restarts caused by the kill: " + restarted);
    }

    /** Slots in use per live TaskManager number, from the JobManager's /taskmanagers. */
    private Map<Integer, Integer> slotsInUse() {
        Map<String, Integer> byResourceId = new java.util.HashMap<>();
        for (JsonNode tm : rest.taskManagers()) {
            byResourceId.put(tm.path("id").asText(), tm.path("slotsNumber").asInt() - tm.path("freeSlots").asInt());
        }
        Map<Integer, Integer> byIndex = new TreeMap<>();
        for (int index : cluster.taskManagerIndexes()) {
            byIndex.put(index, cluster.taskManagerResourceId(index).map(id -> byResourceId.getOrDefault(id, 0)).orElse(0));
        }
        if (byIndex.isEmpty()) {
            throw new IllegalStateException("No TaskManager is running");
        }
        return byIndex;
    }

    private void killJobManager() {
        Instant at = Instant.now();
        cluster.killJobManager();
        say("fault: kill -9 JobManager; recovering as the runbook says: cluster stop, cluster start, submit all "
                + "--from-latest-checkpoint");
        LocalCluster.StopReport stopped = cluster.stop();
        cluster.start(2);
        rest = cluster.rest();
        submit(true);
        measure("kill -9 JobManager", at, at, Duration.ZERO, "cluster restarted, jobs resubmitted from their latest "
                + "retained checkpoints (" + stopped.stopped().size() + " orphaned processes stopped)");
    }

    private void bounceKafka(Duration outage) {
        bounce("Kafka broker", "KAFKA_BOOTSTRAP_SERVERS points at an external broker", env.kafka().isPresent(),
                () -> env.kafka().get().stop(), () -> env.kafka().get().start(), outage);
    }

    private void bouncePostgres(Duration outage) {
        bounce("PostgreSQL", "JDBC_URL points at an external PostgreSQL", env.postgres().isPresent(),
                () -> env.postgres().get().stop(), () -> env.postgres().get().start(), outage);
    }

    /** Stops an embedded service, keeps it down for {@code outage}, starts it again on the same port and data. */
    private void bounce(String service, String whyNot, boolean embedded, Runnable stop, Runnable start, Duration outage) {
        String fault = service + " stopped " + outage.toSeconds() + " s";
        if (!embedded) {
            recoveries.add(new Recovery(fault, Instant.now(), outage, null, null, "skipped: " + whyNot));
            return;
        }
        Instant at = Instant.now();
        stop.run();
        say("fault: " + fault);
        holdOutage(outage);
        start.run();
        Instant back = Instant.now();
        measure(fault, at, back, Duration.between(at, back), "restarted on the same port and data");
    }

    /**
     * Stop every job with a savepoint and resubmit it from there at another parallelism, from {@code next}: when that
     * is another jar, this is an upgrade, and the restore goes through the state's schema evolution.
     */
    private void rescale(int to, Path next) {
        Instant at = Instant.now();
        JobSubmitter submitter = submitter();
        for (String name : jobIds.keySet()) {
            submitter.stopWithSavepoint(name, null, TIMEOUT);
        }
        int from = parallelism;
        boolean upgrade = !next.equals(jar);
        parallelism = to;
        jar = next;
        submit(true);
        String what = (upgrade ? "upgrade to " + next.getFileName() + " and rescale " : "rescale ") + from + " -> " + to;
        say(what + ": every job stopped with a savepoint and resubmitted from it");
        measure(what + " (stop with savepoint, resubmit)", at, at, Duration.ZERO, upgrade
                ? "state restored from the savepoints into the next contract (JobLifecycleEvent + priority)"
                : "state restored from the savepoints");
    }

    /** The length of an outage is the fault itself, not a wait for something to happen. */
    private static void holdOutage(Duration outage) {
        try {
            Thread.sleep(outage.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during an outage", e);
        }
    }

    /**
     * Recovery of every job from a fault at {@code at}: the first checkpoint triggered after {@code from} (the
     * service's return, or the fault itself) that completes, and then the sources' backlog (pendingRecords) under one
     * second of input at the generator's rate.
     */
    private void measure(String fault, Instant at, Instant from, Duration outage, String note) {
        Instant[] checkpointed = new Instant[1];
        await("every job checkpointing again after: " + fault, () -> {
            Instant latest = null;
            for (String jobId : jobIds.values()) {
                JsonNode c = lastCompleted(jobId);
                if (c == null || c.path("trigger_timestamp").asLong() < from.toEpochMilli()) {
                    return false;
                }
                Instant ack = Instant.ofEpochMilli(c.path("latest_ack_timestamp").asLong());
                latest = latest == null || ack.isAfter(latest) ? ack : latest;
            }
            checkpointed[0] = latest;
            return true;
        });
        Instant caughtUp = null;
        try {
            await("the lag of every job under 1 s after: " + fault, () -> lag() <= options.rate());
            caughtUp = Instant.now();
        } catch (IllegalStateException e) {
            note += "; lag not under 1 s within " + TIMEOUT.toMinutes() + " min";
        }
        Recovery r = new Recovery(fault, at, outage, Duration.between(at, checkpointed[0]),
                caughtUp == null ? null : Duration.between(at, caughtUp), note);
        recoveries.add(r);
        checkProcesses(fault);
        say("recovered from " + fault + ": first new checkpoint after " + r.toCheckpoint().toMillis() + " ms, lag < 1 s after "
                + (r.toLagUnderOneSecond() == null ? "-" : r.toLagUnderOneSecond().toMillis() + " ms"));
    }

    /**
     * Records a JobManager or TaskManager that is not alive although the run did not kill it, and any fatal error Flink
     * logged ("FATAL - exception in exception handler", "Fatal error occurred ...": the process exits after them).
     */
    private void checkProcesses(String after) {
        List<String> dead = new ArrayList<>();
        if (cluster.jobManager().isEmpty()) {
            dead.add("the JobManager");
        }
        List<Integer> tms = cluster.taskManagerIndexes();
        if (tms.size() < 2) {
            dead.add((2 - tms.size()) + " TaskManager(s) (alive: " + tms + ")");
        }
        List<String> fatal = new ArrayList<>();
        try (java.util.stream.Stream<Path> logs = java.nio.file.Files.list(cluster.logDirectory())) {
            for (Path f : logs.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
                try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(f,
                        java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    // Flink's own fatal exits, not the "FATAL:" of a PostgreSQL error message a sink logged.
                    lines.filter(l -> l.contains("FATAL - ") || l.contains("FATAL: Thread '")
                            || l.contains("Fatal error occurred")).limit(3)
                            .forEach(l -> fatal.add(f.getFileName() + ": " + l.strip()));
                }
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            fatal.add("cannot read the cluster logs: " + e);
        }
        fatal.removeIf(unexpectedExits::contains);
        dead.addAll(fatal);
        if (!dead.isEmpty()) {
            say("after " + after + ": not alive or fatal: " + dead);
            dead.forEach(d -> { if (!unexpectedExits.contains(d)) unexpectedExits.add(d); });
        }
    }

    // ------------------------------------------------------------------------------------------ jobs

    private JobSubmitter submitter() {
        return new JobSubmitter(rest, history, this::say)
                .checkpointDirectory(cluster.config().localDir("execution.checkpointing.dir"));
    }

    private void submit(boolean fromLatestSnapshot) {
        List<JobSubmitter.Submitted> submitted = submitter().submit(jar, PipelineJobs.ALL,
                new JobSubmitter.Options(settings, parallelism, null, fromLatestSnapshot, false));
        Map<String, String> ids = new LinkedHashMap<>();
        for (JobSubmitter.Submitted s : submitted) {
            if (fromLatestSnapshot && s.restoredFrom() == null) {
                throw new IllegalStateException(s.job().name() + " found no snapshot to restore");
            }
            rest.awaitAllTasksRunning(s.jobId(), TIMEOUT);
            ids.put(s.job().name(), s.jobId());
        }
        jobIds = ids;
    }

    private void drainMetrics() {
        String id = jobIds.get("metrics");
        rest.stopWithSavepoint(id, null, true, TIMEOUT);
        rest.awaitJobState(id, TIMEOUT, "FINISHED");
        say("metrics job stopped with drain: every window and minute of its input fired");
    }

    private JsonNode lastCompleted(String jobId) {
        try {
            JsonNode c = rest.checkpoints(jobId).path("latest").path("completed");
            return c.has("id") ? c : null;
        } catch (RuntimeException e) {
            return null; // restarting, or the JobManager is not up yet
        }
    }

    /** Records the sources of every job have not fetched yet; infinite while any job's metrics are unavailable. */
    private double pendingRecords() {
        ClusterStatus status = new ClusterStatus(rest, history, null);
        double sum = 0;
        try {
            for (String jobId : jobIds.values()) {
                Map<String, Double> pending = status.pendingRecords(jobId);
                if (pending.isEmpty() || pending.values().stream().anyMatch(v -> v.isNaN() || v < 0)) {
                    return Double.POSITIVE_INFINITY;
                }
                sum += pending.values().stream().mapToDouble(Double::doubleValue).sum();
            }
        } catch (RuntimeException e) {
            return Double.POSITIVE_INFINITY;
        }
        return sum;
    }

    /**
     * The jobs' unfetched input: the sources' pendingRecords, or, while a source has not registered that metric (a
     * Kafka source reader registers it only once it fetched a record, so a job restored after the input drained has
     * none), the consumer groups' lag behind their offsets committed at the last checkpoint, an upper bound.
     */
    private double lag() {
        double pending = pendingRecords();
        if (!Double.isInfinite(pending)) {
            return pending;
        }
        List<String> groups = settings.entrySet().stream().filter(e -> e.getKey().endsWith(".group-id"))
                .map(Map.Entry::getValue).toList();
        try {
            Map<String, Long> lag = ClusterStatus.groupLag(env.bootstrapServers(), groups);
            return lag.size() == groups.size() && lag.values().stream().allMatch(l -> l >= 0)
                    ? lag.values().stream().mapToLong(Long::longValue).sum() : Double.POSITIVE_INFINITY;
        } catch (RuntimeException e) {
            return Double.POSITIVE_INFINITY; // the broker is coming back
        }
    }

    private long restarts() {
        long n = 0;
        for (String jobId : jobIds.values()) {
            n += rest.exceptions(jobId).path("exceptionHistory").path("entries").size();
        }
        return n;
    }

    /** Every consumer group of the jobs has committed the end of every input topic (and the generator is done). */
    private void awaitCaughtUp(String what, BooleanSupplier andAlso) {
        List<String> groups = settings.entrySet().stream().filter(e -> e.getKey().endsWith(".group-id"))
                .map(Map.Entry::getValue).toList();
        await(what, () -> {
            try {
                Map<String, Long> lag = ClusterStatus.groupLag(env.bootstrapServers(), groups);
                return andAlso.getAsBoolean() && lag.size() == groups.size() && lag.values().stream().allMatch(l -> l == 0);
            } catch (RuntimeException e) {
                return false; // the broker is coming back
            }
        });
    }

    /**
     * Whether every consumer group of a job that reads a partition has committed an offset at or past its end in
     * {@code ends} (topic/partition to offset): offsets are committed when a checkpoint completes.
     */
    private boolean committedPast(Map<String, Long> ends) {
        java.util.Properties p = new java.util.Properties();
        p.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrapServers());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            for (String group : settings.entrySet().stream().filter(e -> e.getKey().endsWith(".group-id"))
                    .map(Map.Entry::getValue).toList()) {
                var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                for (var e : committed.entrySet()) {
                    Long end = ends.get(e.getKey().topic() + "/" + e.getKey().partition());
                    if (end != null && (e.getValue() == null || e.getValue().offset() < end)) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private long count(String sql) {
        try (Connection c = DriverManager.getConnection(env.jdbcUrl()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    private void await(String what, BooleanSupplier condition) {
        Poll.await(what, TIMEOUT, Duration.ofMillis(250), condition);
    }

    private void say(String line) {
        log.add(line);
        progress.accept(line);
    }
}
