package io.cosmichorizons.pipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.assertPassed;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.testing.FailingMapper;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.verification.AlertRules;
import io.cosmichorizons.verification.BatchRecomputation;
import io.cosmichorizons.verification.OutputComparison;
import io.cosmichorizons.verification.Pipeline;
import io.cosmichorizons.verification.PublishedInputs;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
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

        PublishedInputs published = PublishedInputs.read(RealServices.bootstrapServers(), truth, List.of());
        assertEquals(truth.jobs().stream().mapToLong(GroundTruth.Job::metricsSamples).sum(), published.samples().size());
        AlertRules rules = AlertRules.fromSettings(settings.asMap());
        // The workload must exercise what is compared: stuck jobs, and error-rate episodes on a system.
        assertTrue(BatchRecomputation.jobAlerts(truth, sampleTimes(published.samples()), rules).stream()
                .anyMatch(a -> a.type() == AlertType.STUCK_QUEUED), "the workload has stuck jobs");
        assertTrue(BatchRecomputation.fleet(truth, "system", rules::errorRate).errorAlerts().values().stream()
                .anyMatch(l -> !l.isEmpty()), "the workload raises error-rate alerts");

        // Windows (table and topic), summaries, fleet statistics per system and user, every alert, and no dead letters.
        assertPassed(OutputComparison.compare(published, stack.outputs(), Set.of(Pipeline.METRICS), rules));
        assertTrue(stack.deadLetters().isEmpty(), "a clean workload leaves no dead letters: " + stack.deadLetters());
    }

    private static Map<String, List<Long>> sampleTimes(List<JobMetricsEvent> samples) {
        Map<String, List<Long>> times = new HashMap<>();
        samples.forEach(s -> times.computeIfAbsent(s.getJobId(), j -> new ArrayList<>()).add(s.getSampledAt().toEpochMilli()));
        times.values().forEach(l -> l.sort(null));
        return times;
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
}
