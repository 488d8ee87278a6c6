package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.testing.FailingMapper;
import io.cosmichorizons.pipeline.testing.LifecycleAssertions;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.verification.AlertRules;
import io.cosmichorizons.verification.OutputComparison;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.verification.Pipeline;
import io.cosmichorizons.verification.PublishedInputs;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The audit job on a MiniCluster against the real broker and PostgreSQL, with operator failures injected, checked
 * against the generator's ground truth.
 */
@ExtendWith(RealServices.class)
class AuditJobITCase {
    private static final MacKey KEY = MacKey.of("it-key", "aW50ZWdyYXRpb24gdGVzdCBNQUMga2V5IGZvciB0aGUgYXVkaXQgam9i");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    /**
     * 4,000 jobs (over 20,000 lifecycle and audit-trail events) with duplicates, out-of-order and malformed records,
     * while an operator throws three times after checkpoints: afterwards the ledger holds exactly one entry per
     * accepted event, every chain is gap-free and verifies, no chain forks, and the audit job dead-lettered exactly
     * the injected bad records.
     */
    @Test
    void exactlyOneVerifiableEntryPerAcceptedEventThroughRepeatedFailures() throws Exception {
        TestStack stack = TestStack.create("audit-eo");
        GeneratorConfig workload = stack.workload(4_000, 23L)
                .rate(3_500)
                .metricsIntervalSeconds(6 * 3600) // the audit job does not read metrics: keep them few
                .inject(new GeneratorConfig.Injection(0.01, 0.02, 0.01))
                .build();

        AuditJobConfig config = AuditJobConfig.from(stack.settings()
                .with("topics.audit-trail", stack.topic(Topics.AUDIT_TRAIL))
                .with("audit.group-id", stack.prefix + "audit")
                .with("audit.mac-key", java.util.Base64.getEncoder().encodeToString(KEY.key()))
                .with("audit.mac-key-id", KEY.id()));
        FailingMapper.arm(3, 13L);
        StreamExecutionEnvironment env = environment(config);
        AuditJob.defineWorkflow(env, config,
                KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId()).build(),
                KafkaInputs.envelopes(config.common(), EventKind.AUDIT_TRAIL, List.of(config.auditTrailTopic()), config.groupId())
                        .setClientIdPrefix(config.groupId() + "-trail").build(),
                AuditSinks.production(config), config.ledgerHeads(), failing());
        JobClient job = env.executeAsync("audit-exactly-once");
        PublishedInputs published;
        try {
            GroundTruth truth = TestStack.publish(workload);
            published = PublishedInputs.read(RealServices.bootstrapServers(), truth, List.of());
            assertEquals(truth.totals().recordsPerTopic().get(stack.topic(Topics.AUDIT_TRAIL)),
                    (long) published.auditTrailEventIds().size());
            long expectedEntries = published.lifecycleEventIds().size() + published.auditTrailEventIds().size();
            assertTrue(expectedEntries >= 20_000, "a run of at least 20,000 events: " + expectedEntries);
            long deadLetterCount = LifecycleAssertions.expectedLifecycleDeadLetters(truth, stack).size();
            try {
                TestStack.await("every accepted event audited and every bad record dead-lettered", Duration.ofMinutes(2),
                        () -> count(stack, "SELECT count(*) FROM audit_events") >= expectedEntries
                                && auditDeadLetters(stack) >= deadLetterCount);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ": " + count(stack, "SELECT count(*) FROM audit_events")
                        + " of " + expectedEntries + " entries, " + auditDeadLetters(stack) + " of "
                        + deadLetterCount + " dead letters, " + FailingMapper.injected() + " failures injected, job "
                        + job.getJobStatus().get(), e);
            }
            assertTrue(FailingMapper.injected() >= 3, "failures injected during the run: " + FailingMapper.injected());
        } finally {
            job.cancel().get();
        }

        // One entry per accepted event, no fork, no gap, PostgreSQL's audit_verify (with the MAC key) clean, and
        // exactly the injected bad records dead-lettered by the audit job.
        LifecycleAssertions.assertPassed(OutputComparison.compare(published,
                OutputSnapshot.read(stack.location(), KEY.key()), Set.of(Pipeline.AUDIT), AlertRules.defaults()));

        LedgerVerifier.Options options = LedgerVerifier.Options.of(List.of(KEY), List.of()).withThreads(2);
        LedgerVerifier.Report report = new LedgerVerifier(stack.jdbcUrl, options).verify();
        assertTrue(report.clean(), report::render);
        assertEquals(published.lifecycleEventIds().size() + published.auditTrailEventIds().size(), report.entries());
        assertEquals(2 * Topics.INPUT_PARTITIONS, report.chains().size(), "one chain per input partition");
        var anchored = LedgerAnchoring.anchor(stack.jdbcUrl, LedgerFixture.SIGNER, options, Clock.systemUTC());
        assertTrue(anchored.anchored(), () -> anchored.verification().render());
    }

    private static long auditDeadLetters(TestStack stack) {
        return stack.deadLetters().stream().filter(dl -> dl.getStage().startsWith("audit-")).count();
    }

    private static long count(TestStack stack, String sql) {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static StreamExecutionEnvironment environment(AuditJobConfig config) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        PipelineEnvironment.configure(env, config.common());
        return env;
    }

    private static UnaryOperator<DataStream<InputEnvelope>> failing() {
        return stream -> stream.map(new FailingMapper<InputEnvelope>(), stream.getType())
                .uid("test-failing-mapper").name("failing mapper (test)");
    }
}
