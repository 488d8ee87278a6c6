package io.cosmichorizons.pipeline.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.io.DeadLetterReplay;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.testing.FailingMapper;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lifecycle job on a MiniCluster against the real broker and PostgreSQL, checked against the generator's ground
 * truth.
 */
@ExtendWith(RealServices.class)
class LifecycleJobITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    /**
     * 5,000 jobs with duplicates, out-of-order and malformed records injected, while an operator throws three times
     * after checkpoints: job_status must equal the ground truth, there must be exactly one committed notification per
     * job end, and exactly the injected bad records in the dead-letter topic.
     */
    @Test
    void matchesTheGroundTruthThroughRepeatedFailures() throws Exception {
        TestStack stack = TestStack.create("lifecycle-eo");
        GeneratorConfig workload = stack.workload(5_000, 42L)
                .rate(12_000)
                .inject(new GeneratorConfig.Injection(0.01, 0.02, 0.01))
                .build();

        FailingMapper.arm(3, 7L);
        LifecycleJobConfig config = LifecycleJobConfig.from(stack.settings());
        StreamExecutionEnvironment env = environment(config);
        LifecycleJob.defineWorkflow(env, config,
                KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId()).build(),
                KafkaInputs.envelopes(config.common(), EventKind.PREFERENCES, List.of(config.preferencesTopic()), config.groupId() + "-p")
                        .setDeserializer(new PreferenceDeserializer(config.common())).build(),
                LifecycleSinks.production(config),
                failing());
        JobClient job = env.executeAsync("lifecycle-exactly-once");
        try {
            GroundTruth truth = TestStack.publish(workload);
            long terminalJobs = truth.jobs().size();
            long expectedDeadLetters = expectedLifecycleDeadLetters(truth, stack).size();
            TestStack.await("all job ends to be committed", Duration.ofMinutes(3), () ->
                    countCommitted(stack) >= terminalJobs && stack.deadLetters().size() >= expectedDeadLetters
                            && finishedRows(stack) >= terminalJobs);
            assertEquals(3, FailingMapper.injected(), "failures injected during the run");

            assertJobStatusEqualsGroundTruth(stack, truth);
            assertOneNotificationPerJobEnd(stack, truth);
            assertDeadLettersAreExactlyTheInjectedOnes(stack, truth);
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Bad input of every kind lands in the dead-letter topic with its reason, while every valid event around it is
     * still processed; a gap that never fills expires at the end of the (bounded) input.
     */
    @Test
    void badInputIsDeadLetteredAndValidInputStillFlows() throws Exception {
        TestStack stack = TestStack.create("lifecycle-bad");
        GroundTruth truth = TestStack.publish(stack.workload(300, 7L)
                .inject(new GeneratorConfig.Injection(0.05, 0.05, 0.08))
                .build());
        // A job whose SUBMITTED never arrives: its events must expire as OUT_OF_ORDER_TIMEOUT.
        BadRecords.publishOrphanedJob(stack, "orphan-1");
        // Impossible transitions: RUNNING after the end of a finished job.
        GroundTruth.Job ended = truth.jobs().get(0);
        BadRecords.publishStepAfterEnd(stack, ended);

        runBounded(stack, UnaryOperator.identity());

        assertJobStatusEqualsGroundTruth(stack, truth);
        assertOneNotificationPerJobEnd(stack, truth);
        Map<DeadLetterReason, Long> reasons = stack.deadLetters().stream()
                .collect(Collectors.groupingBy(DeadLetter::getReason, TreeMap::new, Collectors.counting()));
        for (DeadLetterReason r : List.of(DeadLetterReason.UNPARSEABLE, DeadLetterReason.MISSING_FIELD,
                DeadLetterReason.UNKNOWN_EVENT_TYPE, DeadLetterReason.KEY_MISMATCH, DeadLetterReason.EMPTY_RECORD,
                DeadLetterReason.DUPLICATE_EVENT)) {
            assertEquals(expectedLifecycleDeadLetters(truth, stack).stream().filter(r::equals).count(),
                    reasons.getOrDefault(r, 0L), () -> r + " in " + reasons);
        }
        assertEquals(1L, reasons.get(DeadLetterReason.INVALID_TRANSITION), reasons::toString);
        assertEquals(3L, reasons.get(DeadLetterReason.OUT_OF_ORDER_TIMEOUT), reasons::toString);
        for (DeadLetter dl : stack.deadLetters()) {
            assertTrue(dl.getSource().getTopic().equals(stack.topic(Topics.JOB_LIFECYCLE)), dl::toString);
            assertTrue(dl.getMessage().length() > 10, dl::toString);
        }
    }

    /**
     * A job whose SUBMITTED was lost: its other events expire as OUT_OF_ORDER_TIMEOUT. Once SUBMITTED is published,
     * replaying those dead letters makes the job flow through to COMPLETED with one notification.
     */
    @Test
    void repairedDeadLettersFlowThroughWhenReplayed() throws Exception {
        TestStack stack = TestStack.create("lifecycle-replay");
        BadRecords.publishOrphanedJob(stack, "repair-1");
        runBounded(stack, UnaryOperator.identity());
        List<DeadLetter> expired = stack.deadLetters();
        assertEquals(List.of(DeadLetterReason.OUT_OF_ORDER_TIMEOUT, DeadLetterReason.OUT_OF_ORDER_TIMEOUT,
                DeadLetterReason.OUT_OF_ORDER_TIMEOUT), expired.stream().map(DeadLetter::getReason).toList());

        // Continue where the first run ended, as a restored job would. (Committed group offsets are only a
        // monitoring aid: a finished bounded source does not commit its last offsets.)
        OffsetsInitializer whereRunOneEnded = OffsetsInitializer.offsets(endOffsets(stack.topic(Topics.JOB_LIFECYCLE)));
        BadRecords.publishSubmitted(stack, "repair-1");
        List<DeadLetter> selected = DeadLetterReplay.read(RealServices.bootstrapServers(), stack.topic(Topics.DEAD_LETTERS),
                dl -> dl.getReason() == DeadLetterReason.OUT_OF_ORDER_TIMEOUT, new long[1]);
        assertEquals(3, DeadLetterReplay.replay(RealServices.bootstrapServers(), selected, stack.topic(Topics.JOB_LIFECYCLE)));
        runBounded(stack, UnaryOperator.identity(), whereRunOneEnded);

        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT status, version FROM job_status WHERE job_id = 'repair-1'")) {
            assertTrue(rs.next());
            assertEquals("COMPLETED", rs.getString(1));
            assertEquals(4, rs.getInt(2));
        }
        List<Notification> notifications = TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class,
                Notification.getClassSchema());
        assertEquals(1, notifications.size());
        assertEquals(3, stack.deadLetters().size(), "no new dead letters after the repair");
    }

    private void runBounded(TestStack stack, UnaryOperator<DataStream<InputEnvelope>> hook) throws Exception {
        runBounded(stack, hook, OffsetsInitializer.earliest());
    }

    private void runBounded(TestStack stack, UnaryOperator<DataStream<InputEnvelope>> hook, OffsetsInitializer start)
            throws Exception {
        LifecycleJobConfig config = LifecycleJobConfig.from(stack.settings());
        StreamExecutionEnvironment env = environment(config);
        LifecycleJob.defineWorkflow(env, config,
                KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId())
                        .setStartingOffsets(start)
                        .setBounded(OffsetsInitializer.latest()).build(),
                KafkaInputs.envelopes(config.common(), EventKind.PREFERENCES, List.of(config.preferencesTopic()), config.groupId() + "-p")
                        .setDeserializer(new PreferenceDeserializer(config.common()))
                        .setBounded(OffsetsInitializer.latest()).build(),
                LifecycleSinks.production(config), hook);
        JobClient job = env.executeAsync("lifecycle-bounded");
        JobStatus end = job.getJobExecutionResult().thenApply(r -> JobStatus.FINISHED).get();
        assertEquals(JobStatus.FINISHED, end);
    }

    private static Map<org.apache.kafka.common.TopicPartition, Long> endOffsets(String topic) throws Exception {
        var admin = RealServices.admin();
        var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
        partitions.forEach(p -> latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest()));
        Map<org.apache.kafka.common.TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(latest).all().get().forEach((tp, info) -> end.put(tp, info.offset()));
        return end;
    }

    static StreamExecutionEnvironment environment(LifecycleJobConfig config) {
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

    // ------------------------------------------------------------------------------------------ checks

    static List<DeadLetterReason> expectedLifecycleDeadLetters(GroundTruth truth, TestStack stack) {
        return truth.injected().stream()
                .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                .map(GroundTruth.Injected::expectedReason)
                .toList();
    }

    static void assertJobStatusEqualsGroundTruth(TestStack stack, GroundTruth truth) throws SQLException {
        Map<String, Map<String, Object>> rows = new HashMap<>();
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM job_status")) {
            while (rs.next()) {
                Map<String, Object> row = new HashMap<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                }
                rows.put(rs.getString("job_id"), row);
            }
        }
        List<String> mismatches = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            Map<String, Object> row = rows.remove(job.jobId());
            if (row == null) {
                mismatches.add(job.jobId() + ": no row");
                continue;
            }
            Map<String, Object> expected = new TreeMap<>();
            expected.put("status", job.finalStatus().name());
            expected.put("version", job.lifecycle().size());
            expected.put("user_id", job.userId());
            expected.put("hpc_system", job.hpcSystem());
            expected.put("queue", job.queue());
            expected.put("pipeline", job.pipeline());
            expected.put("submitted_at", job.submittedAt());
            expected.put("queued_at", job.queuedAt());
            expected.put("started_at", job.startedAt());
            expected.put("ended_at", job.endedAt());
            expected.put("queue_wait_ms", job.queueWaitMs());
            expected.put("run_ms", job.runMs());
            expected.put("error_code", job.errorCode());
            expected.put("exit_code", job.finalStatus() == LifecycleEventType.CANCELLED ? null : job.exitCode());
            expected.put("last_event_id", job.terminal().eventId());
            for (Map.Entry<String, Object> e : expected.entrySet()) {
                Object actual = row.get(e.getKey());
                if (actual instanceof Timestamp t) {
                    actual = t.toInstant().toEpochMilli();
                }
                Object wanted = e.getValue();
                boolean same = wanted instanceof Number w && actual instanceof Number a
                        ? w.longValue() == a.longValue() : Objects.equals(wanted, actual);
                if (!same) {
                    mismatches.add(job.jobId() + "." + e.getKey() + ": expected " + e.getValue() + " but was " + actual);
                }
            }
        }
        rows.keySet().forEach(extra -> {
            if (!extra.startsWith("orphan")) {
                mismatches.add(extra + ": unexpected row");
            }
        });
        assertEquals(List.of(), mismatches.stream().limit(20).toList(), mismatches.size() + " mismatches");
    }

    static void assertOneNotificationPerJobEnd(TestStack stack, GroundTruth truth) throws SQLException {
        List<Notification> committed = TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class,
                Notification.getClassSchema());
        Map<String, List<Notification>> byJob = committed.stream().collect(Collectors.groupingBy(Notification::getJobId));
        List<String> problems = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            List<Notification> mine = byJob.getOrDefault(job.jobId(), List.of());
            if (mine.size() != 1) {
                problems.add(job.jobId() + ": " + mine.size() + " notifications");
            } else if (mine.get(0).getKind() != job.finalStatus()
                    || !mine.get(0).getNotificationId().equals(Notifications.notificationId(job.jobId(), job.terminal().eventId()))) {
                problems.add(job.jobId() + ": wrong notification " + mine.get(0));
            }
        }
        assertEquals(List.of(), problems.stream().limit(20).toList(), problems.size() + " problems");
        assertEquals(truth.jobs().size(), committed.size(), "notifications on the topic");
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT job_id) FROM notifications")) {
            rs.next();
            assertEquals(truth.jobs().size(), rs.getLong(1), "rows in the notifications table");
            assertEquals(truth.jobs().size(), rs.getLong(2), "jobs in the notifications table");
        }
    }

    static void assertDeadLettersAreExactlyTheInjectedOnes(TestStack stack, GroundTruth truth) {
        Map<String, Long> expected = truth.injected().stream()
                .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                .collect(Collectors.groupingBy(i -> i.expectedReason() + "/" + i.key(), TreeMap::new,
                        Collectors.counting()));
        Map<String, Long> actual = stack.deadLetters().stream()
                .collect(Collectors.groupingBy(dl -> dl.getReason() + "/" + key(dl),
                        TreeMap::new, Collectors.counting()));
        assertEquals(expected, actual);
    }

    private static String key(DeadLetter dl) {
        return dl.getSource().getKey() == null ? null
                : java.nio.charset.StandardCharsets.UTF_8.decode(dl.getSource().getKey().duplicate()).toString();
    }

    private static long countCommitted(TestStack stack) {
        return TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class, Notification.getClassSchema()).size();
    }

    private static long finishedRows(TestStack stack) {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM job_status WHERE status IN ('COMPLETED','FAILED','CANCELLED')")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

}
