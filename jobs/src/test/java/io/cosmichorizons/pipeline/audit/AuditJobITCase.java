package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.testing.FailingMapper;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
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
        GroundTruth truth;
        Set<String> expectedLifecycle = new HashSet<>();
        Set<String> expectedTrail;
        Map<String, Long> expectedDeadLetters;
        try {
            truth = TestStack.publish(workload);
            truth.jobs().forEach(j -> j.lifecycle().forEach(step -> expectedLifecycle.add(step.eventId())));
            expectedTrail = auditTrailEventIds(stack);
            assertEquals(truth.totals().recordsPerTopic().get(stack.topic(Topics.AUDIT_TRAIL)), (long) expectedTrail.size());
            long expectedEntries = expectedLifecycle.size() + expectedTrail.size();
            assertTrue(expectedEntries >= 20_000, "a run of at least 20,000 events: " + expectedEntries);
            expectedDeadLetters = truth.injected().stream()
                    .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                    .collect(Collectors.groupingBy(i -> i.expectedReason() + "/" + i.key(), TreeMap::new, Collectors.counting()));
            long deadLetterCount = expectedDeadLetters.values().stream().mapToLong(Long::longValue).sum();
            try {
                TestStack.await("every accepted event audited and every bad record dead-lettered", Duration.ofMinutes(2),
                        () -> count(stack, "SELECT count(*) FROM audit_events") >= expectedEntries
                                && auditDeadLetters(stack).size() >= deadLetterCount);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ": " + count(stack, "SELECT count(*) FROM audit_events")
                        + " of " + expectedEntries + " entries, " + auditDeadLetters(stack).size() + " of "
                        + deadLetterCount + " dead letters, " + FailingMapper.injected() + " failures injected, job "
                        + job.getJobStatus().get(), e);
            }
            assertTrue(FailingMapper.injected() >= 3, "failures injected during the run: " + FailingMapper.injected());
        } finally {
            job.cancel().get();
        }

        assertOneEntryPerAcceptedEvent(stack, expectedLifecycle, expectedTrail);
        assertNoForkAndNoGap(stack);
        Map<String, Long> actualDeadLetters = auditDeadLetters(stack).stream()
                .collect(Collectors.groupingBy(dl -> dl.getReason() + "/" + key(dl), TreeMap::new, Collectors.counting()));
        assertEquals(expectedDeadLetters, actualDeadLetters, "the audit job's dead letters");

        LedgerVerifier.Options options = LedgerVerifier.Options.of(List.of(KEY), List.of()).withThreads(2);
        LedgerVerifier.Report report = new LedgerVerifier(stack.jdbcUrl, options).verify();
        assertTrue(report.clean(), report::render);
        assertEquals(expectedLifecycle.size() + expectedTrail.size(), report.entries());
        assertEquals(2 * Topics.INPUT_PARTITIONS, report.chains().size(), "one chain per input partition");
        var anchored = LedgerAnchoring.anchor(stack.jdbcUrl, LedgerFixture.SIGNER, options, Clock.systemUTC());
        assertTrue(anchored.anchored(), () -> anchored.verification().render());
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), count(first_broken_seq) FROM audit_verify(decode('"
                        + java.util.HexFormat.of().formatHex(KEY.key()) + "', 'hex'))")) {
            rs.next();
            assertEquals(2 * Topics.INPUT_PARTITIONS, rs.getLong(1), "the SQL-level check sees every chain");
            assertEquals(0, rs.getLong(2), "and finds none broken");
        }
    }

    private static void assertOneEntryPerAcceptedEvent(TestStack stack, Set<String> lifecycle, Set<String> trail)
            throws SQLException {
        Map<String, Integer> lifecycleIds = new HashMap<>();
        Map<String, Integer> trailIds = new HashMap<>();
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT event_id, source_topic FROM audit_events")) {
            while (rs.next()) {
                (rs.getString(2).equals(stack.topic(Topics.JOB_LIFECYCLE)) ? lifecycleIds : trailIds)
                        .merge(rs.getString(1), 1, Integer::sum);
            }
        }
        List<String> twice = new ArrayList<>();
        lifecycleIds.forEach((id, n) -> { if (n > 1) twice.add(id); });
        trailIds.forEach((id, n) -> { if (n > 1) twice.add(id); });
        assertEquals(List.of(), twice.stream().limit(10).toList(), twice.size() + " events audited more than once");
        assertEquals(lifecycle, lifecycleIds.keySet(), "lifecycle entries = the valid lifecycle events");
        assertEquals(trail, trailIds.keySet(), "audit-trail entries = the audit-trail events");
    }

    private static void assertNoForkAndNoGap(TestStack stack) {
        assertEquals(0, count(stack, "SELECT count(*) FROM (SELECT chain_id, seq FROM audit_events "
                + "GROUP BY chain_id, seq HAVING count(*) > 1) d"), "no (chain, seq) twice");
        assertEquals(0, count(stack, "SELECT count(*) FROM (SELECT chain_id, prev_hash FROM audit_events "
                + "GROUP BY chain_id, prev_hash HAVING count(*) > 1) d"), "no two entries with the same predecessor");
        assertEquals(0, count(stack, "SELECT count(*) FROM (SELECT chain_id FROM audit_events "
                + "GROUP BY chain_id HAVING max(seq) + 1 <> count(*) OR min(seq) <> 0) d"), "every chain is gap-free from 0");
    }

    /** The audit-trail topic's events, read back and decoded (every record there is valid). */
    private static Set<String> auditTrailEventIds(TestStack stack) {
        EventDecoder decoder = new EventDecoder(EventKind.AUDIT_TRAIL);
        Set<String> ids = new HashSet<>();
        io.cosmichorizons.publisher.TopicReader.readAll(RealServices.bootstrapServers(), stack.topic(Topics.AUDIT_TRAIL),
                Duration.ofSeconds(60), r -> {
                    InputEnvelope e = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                    assertTrue(e.getEvent() instanceof AuditTrailEvent, () -> "unexpected record " + e);
                    ids.add(((AuditTrailEvent) e.getEvent()).getEventId());
                });
        return ids;
    }

    private static List<DeadLetter> auditDeadLetters(TestStack stack) {
        return stack.deadLetters().stream().filter(dl -> dl.getStage().startsWith("audit-")).toList();
    }

    private static String key(DeadLetter dl) {
        return dl.getSource().getKey() == null ? null : StandardCharsets.UTF_8.decode(dl.getSource().getKey().duplicate()).toString();
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
