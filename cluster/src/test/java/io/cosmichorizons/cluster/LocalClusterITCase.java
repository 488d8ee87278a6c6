package io.cosmichorizons.cluster;

import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.countCommitted;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.expectedLifecycleDeadLetters;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.finishedRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.generator.GenerationProgress;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.verification.AlertRules;
import io.cosmichorizons.verification.Comparison;
import io.cosmichorizons.verification.Finding;
import io.cosmichorizons.verification.OutputComparison;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.verification.Pipeline;
import io.cosmichorizons.verification.PublishedInputs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline jobs on a real standalone Flink cluster (a JobManager and two TaskManagers, each its own JVM, started
 * from the Maven-resolved Flink runtime and flink-conf/config.yaml), submitted as the shaded job jar through the REST
 * API, fed by the generator, upgraded through stop-with-savepoint and resubmission, and checked against the ground
 * truth.
 */
@ExtendWith(RealServices.class)
class LocalClusterITCase {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final MacKey MAC_KEY = MacKey.of("cluster-it", "Y2x1c3RlciBJVENhc2UgYXVkaXQgTUFDIGtleSwgbm90IGEgc2VjcmV0");

    @TempDir
    static Path tmp;

    static LocalCluster cluster;
    static FlinkRestClient rest;

    @BeforeAll
    static void startCluster() {
        cluster = LocalCluster.builder()
                .home(FlinkRuntime.home())
                .runDirectory(tmp.resolve("cluster"))
                .isolated()
                .dieWithParent(true)
                // Smaller processes than in production, and failures noticed in seconds rather than 50 s.
                .set("jobmanager.memory.process.size", "768m")
                .set("taskmanager.memory.process.size", "1024m")
                .set("heartbeat.interval", "1s")
                .set("heartbeat.timeout", "6s")
                .set("restart-strategy.exponential-delay.initial-backoff", "200ms")
                .build();
        cluster.start(2);
        rest = cluster.rest();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            LocalCluster.StopReport report = cluster.stop();
            assertEquals(List.of(), report.killed(), "processes that ignored SIGTERM");
        }
    }

    @Test
    void runsEveryJobAndUpgradesThroughASavepointWithNothingLostOrDoubled() throws Exception {
        JsonNode overview = rest.overview();
        assertEquals(2, overview.path("taskmanagers").asInt(), overview::toString);
        assertEquals("2.2.1", overview.path("flink-version").asText());
        assertWebUiServesTheLogs();

        TestStack stack = TestStack.create("cluster");
        Map<String, String> settings = isolatedSettings(stack);
        settings.put("checkpoint.interval", "500ms");
        settings.putAll(comparableSettings());
        JobHistory history = new JobHistory(cluster.runDirectory().resolve("jobs"));
        List<String> log = new ArrayList<>();
        JobSubmitter submitter = new JobSubmitter(rest, history, log::add);
        Path jar = JobJar.locate(FlinkRuntime.home());

        // 1. Submit every registered job through REST (upload + run), and see them all RUNNING.
        List<JobSubmitter.Submitted> first = submitter.submit(jar, PipelineJobs.ALL,
                new JobSubmitter.Options(settings, 2, null, false, false));
        assertEquals(PipelineJobs.ALL.size(), first.size());
        for (JobSubmitter.Submitted s : first) {
            rest.awaitAllTasksRunning(s.jobId(), TIMEOUT);
        }
        assertJobsRunning(first);

        // 2. Feed the generator's workload in the background, with bad input injected.
        GeneratorConfig workload = stack.workload(1_500, 11L)
                .rate(1_500)
                .metricsIntervalSeconds(900)
                .inject(new GeneratorConfig.Injection(0.01, 0.02, 0.01))
                .build();
        AtomicReference<GenerationProgress> progress = new AtomicReference<>();
        CompletableFuture<GroundTruth> feeding = CompletableFuture.supplyAsync(() -> {
            GroundTruth.Collector truth = GroundTruth.collector();
            new WorkloadGenerator(workload).onProgress(progress::set).run(truth);
            return truth.result();
        });

        // 3. Mid-stream, once outputs are flowing: an upgrade. Stop every job with a savepoint and resubmit it from
        //    there, while the generator keeps publishing.
        TestStack.await("a third of the input sent and notifications committed", TIMEOUT, () -> {
            GenerationProgress p = progress.get();
            return feeding.isDone() || (p != null && p.sent() * 3 >= p.total() && countCommitted(stack) > 0);
        });
        assertTrue(!feeding.isDone() || !feeding.isCompletedExceptionally(), "the generator failed");
        Map<String, String> savepoints = new HashMap<>();
        for (PipelineJob job : PipelineJobs.ALL) {
            String savepoint = submitter.stopWithSavepoint(job.name(), null, TIMEOUT);
            assertTrue(Files.isDirectory(Path.of(URI.create(savepoint))), savepoint);
            savepoints.put(job.name(), savepoint);
        }
        for (JobSubmitter.Submitted s : first) {
            assertEquals("FINISHED", rest.awaitJobState(s.jobId(), TIMEOUT, "FINISHED", "FAILED", "CANCELED"),
                    s.job().name() + " after stop-with-savepoint");
        }
        List<JobSubmitter.Submitted> second = submitter.submit(jar, PipelineJobs.ALL,
                new JobSubmitter.Options(settings, 2, null, true, false));
        for (JobSubmitter.Submitted s : second) {
            assertEquals(savepoints.get(s.job().name()), s.restoredFrom(), "--from-latest-checkpoint takes the stop's savepoint");
            rest.awaitAllTasksRunning(s.jobId(), TIMEOUT);
            JsonNode restored = rest.checkpoints(s.jobId()).path("latest").path("restored");
            assertEquals(savepoints.get(s.job().name()), restored.path("external_path").asText(), restored::toString);
        }
        assertJobsRunning(second);

        // 4. Wait until the lifecycle and audit jobs have caught up with the whole workload.
        GroundTruth truth = feeding.get(3, TimeUnit.MINUTES);
        PublishedInputs published = PublishedInputs.read(RealServices.bootstrapServers(), truth, List.of());
        long jobEnds = truth.jobs().size();
        long deadLetters = expectedLifecycleDeadLetters(truth, stack).size();
        long auditEntries = published.lifecycleEventIds().size() + published.auditTrailEventIds().size();
        TestStack.await("every job end committed and every event audited", TIMEOUT, () -> countCommitted(stack) >= jobEnds
                && finishedRows(stack) >= jobEnds && stack.deadLetters().size() >= deadLetters
                && count(stack, "SELECT count(*) FROM audit_events") >= auditEntries);
        assertAnalyticsViewsMatchTheGroundTruth(stack.jdbcUrl, truth);

        // 5. The operator's view: status with checkpoints and lag, and Prometheus metrics of the jobs.
        TestStack.await("a checkpoint of every resubmitted job", TIMEOUT, () -> second.stream()
                .allMatch(s -> new ClusterStatus(rest, history, null).lastCheckpoint(s.jobId())
                        .filter(c -> !c.savepoint()).isPresent()));
        List<String> status = new ClusterStatus(rest, history, RealServices.bootstrapServers())
                .report(cluster.liveProcesses());
        String text = String.join("\n", status);
        for (PipelineJob job : PipelineJobs.ALL) {
            assertTrue(text.contains(job.jobName()), text);
        }
        assertTrue(text.contains("last checkpoint #"), text);
        assertTrue(text.contains("lag (Flink pendingRecords)"), () -> text + "\nSource metrics: " + sourceMetricIds(second));
        // One line lists every consumer group, in no particular order.
        assertTrue(text.contains("lag (Kafka committed offsets): ") && text.contains(stack.prefix + "lifecycle "), text);
        String scrape = prometheusScrape();
        assertTrue(scrape.contains("eventsIn"), "Prometheus reporter serves the jobs' metrics");
        assertEquals(List.of(), alertRuleMetricsNotServed(scrape), "metrics of deploy/prometheus/cluster-alerts.yml");
        assertEquals(0, restarts(second), "restarts of the resubmitted jobs");

        // 6. Every output equals the ground truth: nothing lost and nothing doubled across the upgrade. The metrics
        //    job's last windows and minutes wait for a watermark that an idle input never brings: end its input
        //    with a drain, as a bounded run would.
        for (JobSubmitter.Submitted s : second) {
            if (s.job().name().equals("metrics")) {
                rest.stopWithSavepoint(s.jobId(), null, true, TIMEOUT);
                assertEquals("FINISHED", rest.awaitJobState(s.jobId(), TIMEOUT, "FINISHED", "FAILED", "CANCELED"));
            }
        }
        Comparison comparison = OutputComparison.compare(published, OutputSnapshot.read(stack.location(), MAC_KEY.key()),
                Pipeline.ALL, AlertRules.fromSettings(settings));
        LedgerVerifier.Report ledger = new LedgerVerifier(stack.jdbcUrl,
                LedgerVerifier.Options.of(List.of(MAC_KEY), List.of()).withThreads(2)).verify();
        comparison = comparison.plus(List.of(Finding.holds("audit: every chain verifies (LedgerVerifier)",
                ledger.clean() && ledger.entries() == auditEntries, auditEntries + " entries, clean",
                ledger.entries() + " entries, " + ledger.render())));
        assertTrue(comparison.passed(), comparison::render);
    }

    /**
     * Settings under which every output is a function of the events, so that it can be compared with the ground
     * truth: lag alerts (wall-clock by design, and the generated events are days old) and the wall-clock fallback of
     * job deadlines are kept out of the way; AlertScenariosITCase covers both. The audit job gets a known MAC key.
     */
    static Map<String, String> comparableSettings() {
        return Map.of("health.event-time-lag", "3650d", "health.watermark-lag", "3650d", "health.idle-timeout", "1h",
                "audit.mac-key", java.util.Base64.getEncoder().encodeToString(MAC_KEY.key()),
                "audit.mac-key-id", MAC_KEY.id());
    }

    private static long count(TestStack stack, String sql) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(stack.jdbcUrl);
                java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The optional SQL gateway (cluster start --sql-gateway) runs statements as jobs of this cluster. */
    @Test
    void theSqlGatewayRunsStatementsOnTheCluster() throws Exception {
        cluster.startSqlGateway();
        String gateway = "http://localhost:" + cluster.config().get("sql-gateway.endpoint.rest.port");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String session = json.readTree(post(gateway + "/v1/sessions", "{}")).path("sessionHandle").asText();
        String operation = json.readTree(post(gateway + "/v1/sessions/" + session + "/statements",
                "{\"statement\": \"SELECT 40 + 2 AS answer\"}")).path("operationHandle").asText();
        List<String> rows = new ArrayList<>();
        AtomicReference<String> next = new AtomicReference<>("/v1/sessions/" + session + "/operations/" + operation + "/result/0");
        TestStack.await("the statement's result", TIMEOUT, () -> {
            try {
                JsonNode page = json.readTree(fetch(gateway + next.get()));
                page.path("results").path("data").forEach(r -> rows.add(r.path("fields").toString()));
                String type = page.path("resultType").asText();
                if (type.equals("EOS")) {
                    return true;
                }
                if (page.hasNonNull("nextResultUri")) {
                    next.set(page.path("nextResultUri").asText());
                }
                return false;
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(List.of("[42]"), rows);
        assertTrue(rest.jobs().stream().anyMatch(j -> j.name().contains("40 + 2") && j.state().equals("FINISHED")),
                "the query ran as a job of this cluster: " + rest.jobs());
    }

    private static String post(String url, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r::body);
        return r.body();
    }

    /** The analytics views over job_status, as the pipeline wrote it on the cluster, answer like the ground truth. */
    private static void assertAnalyticsViewsMatchTheGroundTruth(String jdbcUrl, GroundTruth truth) throws Exception {
        AnalyticsExpectations.assertRowsEqual("analytics_pipeline_failures", AnalyticsExpectations.pipelineFailures(truth),
                AnalyticsExpectations.query(jdbcUrl, "SELECT * FROM analytics_pipeline_failures", List.of("pipeline"),
                        List.of("pipeline", "jobs_ended", "completed", "failed", "cancelled", "failure_rate",
                                "top_error_code", "top_error_count")));
        AnalyticsExpectations.assertRowsEqual("analytics_queue_wait_daily", AnalyticsExpectations.queueWaitDaily(truth),
                AnalyticsExpectations.query(jdbcUrl, "SELECT * FROM analytics_queue_wait_daily", List.of("hpc_system", "day"),
                        List.of("hpc_system", "day", "jobs", "p50_ms", "p95_ms", "max_ms")));
        AnalyticsExpectations.assertRowsEqual("analytics_sla_breaches",
                AnalyticsExpectations.slaBreaches(truth, List.of(AnalyticsExpectations.DEFAULT_SLA)),
                AnalyticsExpectations.query(jdbcUrl, "SELECT * FROM analytics_sla_breaches", List.of("job_id", "breach"),
                        List.of("actual_ms", "limit_ms", "over_ms")));
        if (PipelineJobs.byName("audit").isPresent()) {
            // The audit job's ledger, written across the stop-with-savepoint and resubmission, verifies intact.
            Map<String, List<Object>> ledger = AnalyticsExpectations.query(jdbcUrl,
                    "SELECT 1 AS k, entries, broken_chains, problems FROM analytics_chain_verification", List.of("k"),
                    List.of("entries", "broken_chains", "problems"));
            assertTrue((Long) ledger.get("1").get(0) > 0, "audit entries: " + ledger);
            assertEquals(0L, ledger.get("1").get(1), "broken chains: " + ledger);
        }
    }

    /**
     * The stack's settings, plus, for every option of every registered job, its topic renamed into the stack's
     * prefixed copy and its consumer group prefixed: each job reads and writes only this test's topics, whatever
     * jobs are registered.
     */
    static Map<String, String> isolatedSettings(TestStack stack) {
        Map<String, String> settings = new TreeMap<>(stack.settings().asMap());
        java.util.Set<String> topicNames = Topics.ALL.stream().map(Topics.TopicSpec::name).collect(Collectors.toSet());
        for (PipelineJob job : PipelineJobs.ALL) {
            for (Option o : job.options()) {
                if (o.key().startsWith("topics.") && topicNames.contains(o.defaultValue())) {
                    settings.putIfAbsent(o.key(), stack.topic(o.defaultValue()));
                } else if (o.key().endsWith("group-id") && o.defaultValue() != null) {
                    settings.putIfAbsent(o.key(), stack.prefix + o.defaultValue());
                }
            }
        }
        return settings;
    }

    private static void assertJobsRunning(List<JobSubmitter.Submitted> submitted) {
        assertEquals(submitted.size(), rest.overview().path("jobs-running").asInt(), "/overview jobs-running");
        Map<String, String> states = rest.jobs().stream().filter(j -> submitted.stream().anyMatch(s -> s.jobId().equals(j.id())))
                .collect(Collectors.toMap(FlinkRestClient.JobSummary::name, FlinkRestClient.JobSummary::state));
        Map<String, String> expected = submitted.stream()
                .collect(Collectors.toMap(s -> s.job().jobName(), s -> "RUNNING"));
        assertEquals(expected, states, "/jobs/overview");
    }

    private static List<String> sourceMetricIds(List<JobSubmitter.Submitted> submitted) {
        List<String> ids = new ArrayList<>();
        for (JobSubmitter.Submitted s : submitted) {
            for (JsonNode v : rest.job(s.jobId()).path("vertices")) {
                ids.add(v.path("name").asText() + ": " + rest.vertexMetricIds(s.jobId(), v.path("id").asText()).stream()
                        .filter(id -> id.toLowerCase().contains("pending") || id.toLowerCase().contains("lag")).toList());
            }
        }
        return ids;
    }

    private static long restarts(List<JobSubmitter.Submitted> submitted) {
        long restarts = 0;
        for (JobSubmitter.Submitted s : submitted) {
            JsonNode exceptions = rest.exceptions(s.jobId());
            restarts += exceptions.path("exceptionHistory").path("entries").size();
        }
        return restarts;
    }

    /** The Web UI lists and serves the log of the JobManager and of every TaskManager (-Dlog.file). */
    private static void assertWebUiServesTheLogs() {
        List<String> jmLogs = new ArrayList<>();
        rest.get("/jobmanager/logs").path("logs").forEach(l -> jmLogs.add(l.path("name").asText()));
        assertTrue(jmLogs.contains("jobmanager.log"), jmLogs::toString);
        for (JsonNode tm : rest.taskManagers()) {
            List<String> tmLogs = new ArrayList<>();
            rest.get("/taskmanagers/" + tm.path("id").asText() + "/logs").path("logs")
                    .forEach(l -> tmLogs.add(l.path("name").asText()));
            assertTrue(tmLogs.stream().anyMatch(n -> n.startsWith("taskmanager-")), tmLogs::toString);
        }
        String log = fetch(rest.baseUrl() + "/jobmanager/log");
        assertTrue(log.contains("StandaloneSessionClusterEntrypoint"), "the JobManager log is served");
    }

    /** The flink_* metrics that the cluster's alert rules use but the cluster's Prometheus endpoints do not serve. */
    @SuppressWarnings("unchecked")
    private static List<String> alertRuleMetricsNotServed(String scrape) throws Exception {
        Map<String, Object> rules = (Map<String, Object>) new org.yaml.snakeyaml.Yaml().load(
                Files.readString(FlinkRuntime.home().resolve("deploy/prometheus/cluster-alerts.yml")));
        java.util.Set<String> missing = new java.util.TreeSet<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) rules.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("flink_\\w+").matcher((String) rule.get("expr"));
                while (m.find()) {
                    if (!java.util.regex.Pattern.compile("(?m)^" + m.group() + "[{ ]").matcher(scrape).find()) {
                        missing.add(m.group());
                    }
                }
            }
        }
        return List.copyOf(missing);
    }

    private static String prometheusScrape() {
        StringBuilder all = new StringBuilder();
        for (String port : cluster.config().get("metrics.reporter.prom.port").split(",")) {
            try {
                all.append(fetch("http://localhost:" + port.strip() + "/metrics"));
            } catch (RuntimeException e) {
                // fewer processes than ports
            }
        }
        return all.toString();
    }

    private static String fetch(String url) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertNotNull(r.body());
            return r.body();
        } catch (Exception e) {
            throw new IllegalStateException(url + ": " + e, e);
        }
    }
}
