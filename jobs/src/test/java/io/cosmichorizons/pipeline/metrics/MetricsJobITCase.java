package io.cosmichorizons.pipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.health.Alerts;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.testing.FailingMapper;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The metrics job on a MiniCluster against the real broker and PostgreSQL: every output compared with a batch
 * recomputation from the published samples and the generator's ground truth, through injected failures.
 */
@ExtendWith(RealServices.class)
class MetricsJobITCase {
    static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    private static final long QUEUE_SLA = Duration.ofMinutes(30).toMillis();
    private static final long DEBUG_QUEUE_SLA = Duration.ofMinutes(5).toMillis();

    /**
     * 1,200 jobs, while an operator throws twice after checkpoints. Windows, summaries, fleet statistics and alerts
     * must equal the batch recomputation: counts, maxima and sums exactly, percentiles within the KLL rank error; every
     * alert exactly once OPEN and once RESOLVED on the read_committed topic.
     */
    @Test
    void outputsEqualABatchRecomputationThroughFailures() throws Exception {
        TestStack stack = TestStack.create("metrics-eo");
        GroundTruth truth = TestStack.publish(stack.workload(1_200, 11L).build());

        Settings settings = settings(stack)
                .with("health.queue-sla", "30m")
                .with("health.thresholds.*.debug.queue-sla", "5m")
                // A touchier error-rate rule for one system, so that the hysteresis is exercised on real data.
                .with("health.thresholds.gadi.error-rate-open", "0.14")
                .with("health.thresholds.gadi.error-rate-resolve", "0.10")
                .with("health.thresholds.gadi.error-rate-min-jobs", "10")
                // The generated events are days old: lag alerts would fire by design (see the scenario test).
                .with("health.event-time-lag", "3650d")
                .with("health.watermark-lag", "3650d");
        FailingMapper.arm(2, 5L);
        run(stack, settings, true, stream -> stream.map(new FailingMapper<InputEnvelope>(), stream.getType())
                .uid("test-failing-mapper").name("failing mapper (test)"));
        assertEquals(2, FailingMapper.injected(), "failures injected during the run");

        List<JobMetricsEvent> samples = samples(stack);
        assertEquals(truth.jobs().stream().mapToLong(GroundTruth.Job::metricsSamples).sum(), samples.size());
        Map<String, BatchRecomputation.JobMetrics> expected = BatchRecomputation.perJob(samples);

        assertWindowsEqual(stack, expected);
        assertSummariesEqual(stack, truth, expected);
        assertFleetStatisticsEqual(stack, truth);
        assertAlertsEqual(stack, truth, samples);
        assertTrue(stack.deadLetters().isEmpty(), "a clean workload leaves no dead letters: " + stack.deadLetters());
    }

    // ------------------------------------------------------------------------------------------ windows

    private static void assertWindowsEqual(TestStack stack, Map<String, BatchRecomputation.JobMetrics> expected)
            throws SQLException {
        Map<String, List<Object>> rows = new TreeMap<>();
        query(stack, "SELECT * FROM job_metrics_1m", rs -> rows.put(rs.getString("job_id") + "@"
                + rs.getTimestamp("window_start").getTime(), List.of(rs.getLong("sample_count"), rs.getDouble("cpu_avg"),
                rs.getDouble("cpu_max"), rs.getLong("rss_peak_bytes"), rs.getLong("io_read_delta_bytes"),
                rs.getLong("io_write_delta_bytes"), rs.getDouble("io_read_rate_bps"))));
        Map<String, List<Object>> wanted = new TreeMap<>();
        expected.forEach((job, m) -> m.windows().forEach((start, w) -> wanted.put(job + "@" + start, List.of(
                w.count(), w.cpuSum() / w.count(), w.cpuMax(), w.rssPeak(), w.readDelta(), w.writeDelta(),
                w.readDelta() / 60.0))));
        assertEquals(wanted.keySet(), rows.keySet(), "one row per job and minute with samples");
        List<String> mismatches = new ArrayList<>();
        wanted.forEach((key, w) -> {
            if (!same(w, rows.get(key))) {
                mismatches.add(key + ": expected " + w + " but was " + rows.get(key));
            }
        });
        assertEquals(List.of(), mismatches.stream().limit(10).toList(), mismatches.size() + " window mismatches");

        List<MetricsAggregate> topic = TestStack.readAll(stack.topic(Topics.METRICS_AGGREGATES), MetricsAggregate.class,
                MetricsAggregate.getClassSchema());
        Map<String, Long> perWindow = topic.stream().collect(Collectors.groupingBy(
                a -> a.getJobId() + "@" + a.getWindowStart().toEpochMilli(), TreeMap::new, Collectors.counting()));
        assertEquals(wanted.keySet(), perWindow.keySet(), "the topic has the same windows");
        assertTrue(perWindow.values().stream().allMatch(n -> n == 1), "each window exactly once on the topic (read_committed)");
        for (MetricsAggregate a : topic) {
            List<Object> w = wanted.get(a.getJobId() + "@" + a.getWindowStart().toEpochMilli());
            assertEquals(w.get(0), a.getSampleCount());
            assertEquals(w.get(4), a.getIoReadDeltaBytes());
        }
    }

    // ------------------------------------------------------------------------------------------ summaries

    private static void assertSummariesEqual(TestStack stack, GroundTruth truth,
            Map<String, BatchRecomputation.JobMetrics> expected) throws SQLException {
        Map<String, Map<String, Object>> rows = new HashMap<>();
        query(stack, "SELECT * FROM job_summary", rs -> {
            Map<String, Object> row = new HashMap<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
            }
            rows.put(rs.getString("job_id"), row);
        });
        assertEquals(truth.jobs().size(), rows.size(), "one summary per ended job");
        List<String> mismatches = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            Map<String, Object> row = rows.get(job.jobId());
            BatchRecomputation.JobTotals t = expected.containsKey(job.jobId()) ? expected.get(job.jobId()).totals()
                    : new BatchRecomputation.JobTotals(0, 0, null, 0, 0);
            Double efficiency = job.runMs() == null || job.runMs() == 0 ? null
                    : t.cpuSeconds() / (job.requestedCores() * (job.runMs() / 1000.0));
            Map<String, Object> want = new TreeMap<>();
            want.put("final_status", job.finalStatus().name());
            want.put("queue_wait_ms", job.queueWaitMs());
            want.put("run_ms", job.runMs());
            want.put("sample_count", (long) job.metricsSamples());
            want.put("late_sample_count", 0L);
            want.put("peak_rss_bytes", t.samples() == 0 ? null : t.peakRss());
            want.put("io_read_bytes", t.read());
            want.put("io_write_bytes", t.write());
            want.put("cpu_seconds", t.cpuSeconds());
            want.put("efficiency", efficiency);
            want.put("hpc_system", job.hpcSystem());
            want.put("queue", job.queue());
            want.forEach((column, value) -> {
                if (!same(value, row.get(column))) {
                    mismatches.add(job.jobId() + "." + column + ": expected " + value + " but was " + row.get(column));
                }
            });
        }
        assertEquals(List.of(), mismatches.stream().limit(10).toList(), mismatches.size() + " summary mismatches");
    }

    // ------------------------------------------------------------------------------------------ fleet

    private static void assertFleetStatisticsEqual(TestStack stack, GroundTruth truth) throws SQLException {
        double epsilon = Sketches.rankError(Sketches.DEFAULT_K);
        for (String scope : List.of("system", "user")) {
            BatchRecomputation.Fleet expected = BatchRecomputation.fleet(truth, scope, system -> system.equals("gadi")
                    ? new BatchRecomputation.RateRule(Duration.ofMinutes(15).toMillis(), 0.14, 0.10, 10)
                    : new BatchRecomputation.RateRule(Duration.ofMinutes(15).toMillis(), 0.25, 0.15, 20));
            Map<String, ResultRow> rows = new TreeMap<>();
            query(stack, "SELECT * FROM fleet_stats_1m WHERE scope = '" + scope + "'", rs -> rows.put(
                    rs.getString("subject") + "@" + rs.getTimestamp("minute_start").getTime(), new ResultRow(rs)));
            List<String> mismatches = new ArrayList<>();
            int expectedRows = 0;
            List<Double> allWaits = new ArrayList<>();
            KllDoublesSketch merged = KllDoublesSketch.newHeapInstance(Sketches.DEFAULT_K);
            for (Map.Entry<String, List<BatchRecomputation.Row>> e : expected.rows().entrySet()) {
                for (BatchRecomputation.Row want : e.getValue()) {
                    expectedRows++;
                    String key = e.getKey() + "@" + want.minute();
                    ResultRow got = rows.get(key);
                    if (got == null) {
                        mismatches.add(key + ": no row");
                        continue;
                    }
                    BatchRecomputation.Minute c = want.changes();
                    List<Long> w = List.of((long) c.submitted, (long) c.started, (long) c.completed, (long) c.failed,
                            (long) c.cancelled, want.queued(), want.running(), (long) c.waits.size(), (long) c.runs.size());
                    if (!w.equals(got.counts)) {
                        mismatches.add(key + ": expected " + w + " but was " + got.counts);
                    }
                    checkQuantiles(key + " queue wait", c.waits, got.waitQuantiles, epsilon, mismatches);
                    checkQuantiles(key + " run", c.runs, got.runQuantiles, epsilon, mismatches);
                    if (scope.equals("system")) {
                        allWaits.addAll(c.waits);
                        if (got.waitSketch != null) {
                            merged.merge(KllDoublesSketch.heapify(org.apache.datasketches.memory.Memory.wrap(got.waitSketch)));
                        }
                    }
                }
            }
            assertEquals(List.of(), mismatches.stream().limit(10).toList(), mismatches.size() + " " + scope + " mismatches");
            assertEquals(expectedRows, rows.size(), scope + ": no rows beyond the recomputed ones");
            if (scope.equals("system")) {
                // Minute sketches merge: the whole run's median queue wait, from the stored sketches.
                allWaits.sort(null);
                assertEquals(allWaits.size(), merged.getN());
                assertTrue(BatchRecomputation.withinRank(allWaits, 0.5, merged.getQuantile(0.5), epsilon));
                assertTrue(expected.errorAlerts().values().stream().anyMatch(l -> !l.isEmpty()),
                        "the workload raises error-rate alerts: " + expected.errorAlerts());
                assertErrorRateAlerts(stack, expected.errorAlerts());
            }
        }
    }

    private static void checkQuantiles(String what, List<Double> values, Double[] got, double epsilon, List<String> out) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        double[] ranks = {0.5, 0.95, 0.99};
        for (int i = 0; i < ranks.length; i++) {
            if (sorted.isEmpty() ? got[i] != null : got[i] == null || !BatchRecomputation.withinRank(sorted, ranks[i], got[i], epsilon)) {
                out.add(what + " p" + (int) (ranks[i] * 100) + " = " + got[i] + " for " + sorted);
            }
        }
    }

    private static void assertErrorRateAlerts(TestStack stack, Map<String, List<BatchRecomputation.RateAlert>> expected) {
        Map<String, List<Alert>> byId = alertsById(stack, AlertType.ERROR_RATE);
        List<String> wanted = new ArrayList<>();
        expected.forEach((system, list) -> list.forEach(a -> wanted.add(Alerts.alertId(AlertType.ERROR_RATE, system, a.openedAt())
                + " " + a.openedAt() + " " + a.resolvedAt())));
        List<String> got = new ArrayList<>();
        byId.forEach((id, records) -> {
            Alert open = records.get(0);
            Alert resolved = records.size() > 1 ? records.get(1) : null;
            got.add(id + " " + open.getOpenedAt().toEpochMilli() + " "
                    + (resolved == null ? null : resolved.getResolvedAt().toEpochMilli()));
        });
        wanted.sort(null);
        got.sort(null);
        assertEquals(wanted, got, "ERROR_RATE alerts");
    }

    /** A fleet_stats_1m row. */
    private static final class ResultRow {
        final List<Long> counts;
        final Double[] waitQuantiles;
        final Double[] runQuantiles;
        final byte[] waitSketch;

        ResultRow(ResultSet rs) throws SQLException {
            counts = List.of(rs.getLong("submitted"), rs.getLong("started"), rs.getLong("completed"), rs.getLong("failed"),
                    rs.getLong("cancelled"), rs.getLong("queued"), rs.getLong("running"), rs.getLong("queue_wait_count"),
                    rs.getLong("run_count"));
            waitQuantiles = new Double[] {d(rs, "queue_wait_p50_ms"), d(rs, "queue_wait_p95_ms"), d(rs, "queue_wait_p99_ms")};
            runQuantiles = new Double[] {d(rs, "run_p50_ms"), d(rs, "run_p95_ms"), d(rs, "run_p99_ms")};
            waitSketch = rs.getBytes("queue_wait_sketch");
        }

        private static Double d(ResultSet rs, String column) throws SQLException {
            double v = rs.getDouble(column);
            return rs.wasNull() ? null : v;
        }
    }

    // ------------------------------------------------------------------------------------------ alerts

    private static void assertAlertsEqual(TestStack stack, GroundTruth truth, List<JobMetricsEvent> samples)
            throws SQLException {
        Map<String, List<Long>> sampleTimes = new HashMap<>();
        samples.forEach(s -> sampleTimes.computeIfAbsent(s.getJobId(), j -> new ArrayList<>()).add(s.getSampledAt().toEpochMilli()));
        sampleTimes.values().forEach(l -> l.sort(null));
        List<BatchRecomputation.JobAlert> expected = BatchRecomputation.jobAlerts(truth, sampleTimes,
                Duration.ofMinutes(10).toMillis(), job -> job.queue().equals("debug") ? DEBUG_QUEUE_SLA : QUEUE_SLA,
                Duration.ofMinutes(15).toMillis(), Duration.ofMinutes(3).toMillis());
        assertTrue(expected.stream().anyMatch(a -> a.type() == AlertType.STUCK_QUEUED), "the workload has stuck jobs");

        Map<String, List<Alert>> topic = new TreeMap<>();
        for (AlertType type : List.of(AlertType.STUCK_SUBMITTED, AlertType.STUCK_QUEUED, AlertType.STUCK_RUNNING,
                AlertType.MISSING_HEARTBEAT)) {
            topic.putAll(alertsById(stack, type));
        }
        List<String> problems = new ArrayList<>();
        for (BatchRecomputation.JobAlert want : expected) {
            String id = Alerts.alertId(want.type(), want.jobId(), want.episodeStart());
            List<Alert> records = topic.remove(id);
            if (records == null) {
                problems.add(want + ": missing");
            } else if (records.size() != 2 || records.get(0).getState() != AlertState.OPEN
                    || records.get(1).getState() != AlertState.RESOLVED
                    || records.get(0).getOpenedAt().toEpochMilli() != want.openedAt()
                    || records.get(1).getResolvedAt().toEpochMilli() != want.resolvedAt()) {
                problems.add(want + ": " + records);
            }
        }
        topic.forEach((id, records) -> problems.add("unexpected " + records));
        assertEquals(List.of(), problems.stream().limit(10).toList(), problems.size() + " alert problems");

        Map<String, String> table = new HashMap<>();
        query(stack, "SELECT alert_id, state FROM alerts WHERE alert_type IN ('STUCK_SUBMITTED','STUCK_QUEUED',"
                + "'STUCK_RUNNING','MISSING_HEARTBEAT')", rs -> table.put(rs.getString(1), rs.getString(2)));
        assertEquals(expected.size(), table.size(), "one row per alert");
        assertTrue(table.values().stream().allMatch("RESOLVED"::equals), "every job alert resolved: " + table);
    }

    /** Committed alert records of a type, by id, in topic order (one id is always on one partition). */
    static Map<String, List<Alert>> alertsById(TestStack stack, AlertType type) {
        return TestStack.readAll(stack.topic(Topics.SYSTEM_ALERTS), Alert.class, Alert.getClassSchema()).stream()
                .filter(a -> a.getAlertType() == type)
                .collect(Collectors.groupingBy(Alert::getAlertId, TreeMap::new, Collectors.toList()));
    }

    // ------------------------------------------------------------------------------------------ running

    static Settings settings(TestStack stack) {
        return stack.settings()
                .with("topics.metrics", stack.topic(Topics.JOB_METRICS))
                .with("topics.metrics-aggregates", stack.topic(Topics.METRICS_AGGREGATES))
                .with("topics.alerts", stack.topic(Topics.SYSTEM_ALERTS))
                .with("metrics.group-id", stack.prefix + "metrics");
    }

    /** Runs the job; bounded runs end at the input's current end and are awaited. */
    static JobClient run(TestStack stack, Settings settings, boolean bounded,
            UnaryOperator<DataStream<InputEnvelope>> hook) throws Exception {
        MetricsJobConfig config = MetricsJobConfig.from(settings);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        PipelineEnvironment.configure(env, config.common());
        var lifecycle = KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()),
                config.groupId()).setClientIdPrefix(config.groupId() + "-lifecycle");
        var metrics = KafkaInputs.envelopes(config.common(), EventKind.METRICS, List.of(config.metricsTopic()),
                config.groupId()).setClientIdPrefix(config.groupId() + "-metrics");
        if (bounded) {
            lifecycle.setBounded(OffsetsInitializer.latest());
            metrics.setBounded(OffsetsInitializer.latest());
        }
        MetricsJob.defineWorkflow(env, config, lifecycle.build(), metrics.build(), MetricsSinks.production(config), hook);
        JobClient job = env.executeAsync(MetricsJob.JOB_NAME + "-" + stack.prefix);
        if (bounded) {
            job.getJobExecutionResult().get(3, TimeUnit.MINUTES);
        }
        return job;
    }

    static List<JobMetricsEvent> samples(TestStack stack) {
        List<JobMetricsEvent> out = new ArrayList<>();
        TopicReader.readAll(RealServices.bootstrapServers(), stack.topic(Topics.JOB_METRICS), Duration.ofSeconds(60), r -> {
            try {
                out.add(AvroCodec.decode(r.value(), JobMetricsEvent.class, JobMetricsEvent.getClassSchema()));
            } catch (Exception e) {
                // not a valid sample: the job dead-letters it
            }
        });
        return out;
    }

    interface RowReader {
        void read(ResultSet rs) throws SQLException;
    }

    static void query(TestStack stack, String sql, RowReader reader) throws SQLException {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                reader.read(rs);
            }
        }
    }

    /** Equal, with numbers compared by value (doubles to a relative 1e-9) and timestamps as epoch millis. */
    static boolean same(Object expected, Object actual) {
        if (expected instanceof List<?> a && actual instanceof List<?> b) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (expected instanceof Double || actual instanceof Double) {
            if (expected == null || actual == null) {
                return expected == actual;
            }
            double x = ((Number) expected).doubleValue();
            double y = ((Number) actual).doubleValue();
            return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.max(Math.abs(x), Math.abs(y)));
        }
        if (expected instanceof Number x && actual instanceof Number y) {
            return x.longValue() == y.longValue();
        }
        return Objects.equals(expected, actual);
    }
}
