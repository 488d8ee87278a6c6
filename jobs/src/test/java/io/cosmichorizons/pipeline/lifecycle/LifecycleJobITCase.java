package io.cosmichorizons.pipeline.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.assertDeadLettersAreExactlyTheInjectedOnes;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.assertJobStatusEqualsGroundTruth;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.assertOneNotificationPerJobEnd;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.countCommitted;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.expectedLifecycleDeadLetters;
import static io.cosmichorizons.pipeline.testing.LifecycleAssertions.finishedRows;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
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
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
}
