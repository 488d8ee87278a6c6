package io.cosmichorizons.slurm;

import static io.cosmichorizons.events.LifecycleEventType.CANCELLED;
import static io.cosmichorizons.events.LifecycleEventType.COMPLETED;
import static io.cosmichorizons.events.LifecycleEventType.FAILED;
import static io.cosmichorizons.events.LifecycleEventType.QUEUED;
import static io.cosmichorizons.events.LifecycleEventType.RUNNING;
import static io.cosmichorizons.events.LifecycleEventType.SUBMITTED;
import static io.cosmichorizons.slurm.TestJobs.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.serde.EventValidator;
import io.cosmichorizons.waiting.Poll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bridge against a scripted Slurm and an in-memory topic. */
class SlurmBridgeTest {
    @TempDir
    Path dir;

    FakeSlurm slurm;
    MemoryEventLog topic;
    Path spool;

    @BeforeEach
    void setUp() {
        slurm = new FakeSlurm();
        topic = new MemoryEventLog();
        spool = dir.resolve("spool.jsonl");
    }

    SlurmBridge bridge() throws IOException {
        return new SlurmBridge(SlurmBridge.Config.of("hpc1", Duration.ofMillis(20), dir.resolve("state.json"), spool),
                slurm, topic);
    }

    List<LifecycleEventType> types(String key) {
        return topic.of("slurm:hpc1:" + key).stream().map(JobLifecycleEvent::getEventType).toList();
    }

    JobLifecycleEvent event(String key, LifecycleEventType type) {
        return topic.of("slurm:hpc1:" + key).stream().filter(e -> e.getEventType() == type).findFirst().orElseThrow();
    }

    @Test
    void followsAJobThroughItsStatesWithOneEventPerStep() throws Exception {
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.pending("100"));
        bridge.pollOnce();
        bridge.pollOnce();
        slurm.set(TestJobs.running("100", T0 + 5));
        bridge.pollOnce();
        slurm.set(TestJobs.ended("100", SlurmState.COMPLETED, T0 + 5, T0 + 65, 0, 0));
        bridge.pollOnce();
        bridge.pollOnce();

        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("100"));
        for (JobLifecycleEvent e : topic.stored) {
            assertEquals("slurm-bridge:hpc1", e.getProducer(), "every step was seen: " + e);
            assertEquals("alice", e.getUserId());
            assertEquals("slurm:hpc1:100", e.getCorrelationId(), "derived when the comment has none");
        }
        assertEquals(Instant.ofEpochSecond(T0), event("100", SUBMITTED).getOccurredAt());
        assertEquals(Instant.ofEpochSecond(T0).plusMillis(1), event("100", QUEUED).getOccurredAt());
        assertEquals(Instant.ofEpochSecond(T0 + 5), event("100", RUNNING).getOccurredAt());
        assertEquals(Instant.ofEpochSecond(T0 + 65), event("100", COMPLETED).getOccurredAt());
        CompletedDetails done = (CompletedDetails) event("100", COMPLETED).getDetails();
        assertEquals(60_000, done.getExecutionTimeMs());
        assertEquals("/home/alice/slurm-100.out", done.getOutputRef());
        SubmittedDetails asked = (SubmittedDetails) event("100", SUBMITTED).getDetails();
        assertEquals("hpc1", asked.getHpcSystem());
        assertEquals("debug", asked.getQueue());
        assertEquals(4, asked.getRequestedCores());
        assertEquals(8L << 30, asked.getRequestedMemoryBytes());
        assertEquals(3_600_000, asked.getRequestedWalltimeMs());
        assertEquals("Priority", ((QueuedDetails) event("100", QUEUED).getDetails()).getReason());
        assertAllValid();
    }

    @Test
    void aJobFirstSeenFinishedGetsItsMissingStepsSynthesisedInStrictOrder() throws Exception {
        // Submitted, started and ended within the same second, between two polls.
        slurm.set(TestJobs.ended("101", SlurmState.COMPLETED, T0, T0, 0, 0));
        bridge().pollOnce();

        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("101"));
        List<JobLifecycleEvent> events = topic.of("slurm:hpc1:101");
        assertEquals(List.of("slurm-bridge:hpc1", "slurm-bridge:hpc1:synthesized", "slurm-bridge:hpc1:synthesized",
                "slurm-bridge:hpc1"), events.stream().map(JobLifecycleEvent::getProducer).toList());
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).getOccurredAt().isAfter(events.get(i - 1).getOccurredAt()), events::toString);
        }
        assertEquals(Instant.ofEpochSecond(T0).plusMillis(3), events.get(3).getOccurredAt());
        assertAllValid();
    }

    @Test
    void mapsEveryEndState() throws Exception {
        slurm.set(TestJobs.ended("1", SlurmState.FAILED, T0 + 1, T0 + 2, 3, 0));
        slurm.set(TestJobs.ended("2", SlurmState.TIMEOUT, T0 + 1, T0 + 3601, 0, 15));
        slurm.set(TestJobs.ended("3", SlurmState.OUT_OF_MEMORY, T0 + 1, T0 + 2, 0, 9));
        slurm.set(TestJobs.ended("4", SlurmState.NODE_FAIL, T0 + 1, T0 + 2, 0, 0));
        slurm.set(TestJobs.ended("5", SlurmState.PREEMPTED, T0 + 1, T0 + 2, 0, 15));
        slurm.set(TestJobs.job("6", SlurmState.CANCELLED, "JobHeldUser", 0, T0 + 9, false, 0, 0));
        slurm.set(TestJobs.ended("7", SlurmState.CANCELLED, T0 + 1, T0 + 2, 0, 15));
        slurm.set(TestJobs.job("8", SlurmState.BOOT_FAIL, "None", 0, T0 + 9, false, -1, 0));
        slurm.set(TestJobs.job("9", SlurmState.DEADLINE, "None", 0, T0 + 9, false, -1, 0));
        slurm.cancelledBy("7", "bob");
        bridge().pollOnce();

        FailedDetails exit3 = (FailedDetails) event("1", FAILED).getDetails();
        assertEquals("FAILED", exit3.getErrorCode());
        assertEquals(3, exit3.getExitCode());
        assertFalse(exit3.getRetryable());
        assertTrue(exit3.getErrorMessage().contains("NonZeroExitCode") && exit3.getErrorMessage().contains("3:0"),
                exit3.getErrorMessage());

        FailedDetails timeout = (FailedDetails) event("2", FAILED).getDetails();
        assertEquals("TIMEOUT", timeout.getErrorCode());
        assertTrue(timeout.getErrorMessage().startsWith("Time limit of 01:00:00 reached"), timeout.getErrorMessage());
        assertEquals("OUT_OF_MEMORY", ((FailedDetails) event("3", FAILED).getDetails()).getErrorCode());
        FailedDetails nodeFail = (FailedDetails) event("4", FAILED).getDetails();
        assertEquals("NODE_FAIL", nodeFail.getErrorCode());
        assertTrue(nodeFail.getRetryable());
        FailedDetails preempted = (FailedDetails) event("5", FAILED).getDetails();
        assertEquals("PREEMPTED", preempted.getErrorCode());
        assertTrue(preempted.getRetryable());

        assertEquals(List.of(SUBMITTED, QUEUED, CANCELLED), types("6"), "cancelled while pending: it never ran");
        CancelledDetails held = (CancelledDetails) event("6", CANCELLED).getDetails();
        assertEquals("Cancelled while pending (JobHeldUser)", held.getReason());
        assertEquals("unknown", held.getCancelledBy(), "without accounting Slurm does not say who");
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, CANCELLED), types("7"));
        assertEquals("bob", ((CancelledDetails) event("7", CANCELLED).getDetails()).getCancelledBy());

        assertEquals(List.of(SUBMITTED, QUEUED, FAILED), types("8"), "FAILED may follow QUEUED: it never ran");
        assertEquals(-1, ((FailedDetails) event("8", FAILED).getDetails()).getExitCode());
        assertEquals("DEADLINE", ((FailedDetails) event("9", FAILED).getDetails()).getErrorCode());
        assertAllValid();
    }

    @Test
    void suspensionAndRequeueAreNotLifecycleSteps() throws Exception {
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.running("200", T0 + 5));
        bridge.pollOnce();
        slurm.set(TestJobs.job("200", SlurmState.SUSPENDED, "None", T0 + 5, 0, true, -1, 0));
        bridge.pollOnce();
        slurm.set(TestJobs.job("200", SlurmState.RUNNING, "None", T0 + 5, 0, true, -1, 0));
        bridge.pollOnce();
        slurm.set(TestJobs.withRestarts(TestJobs.job("200", SlurmState.REQUEUED, "None", 0, 0, false, -1, 0), 1));
        bridge.pollOnce();
        slurm.set(TestJobs.withRestarts(TestJobs.job("200", SlurmState.PENDING, "BeginTime", 0, 0, false, -1, 0), 1));
        bridge.pollOnce();
        slurm.set(TestJobs.withRestarts(TestJobs.running("200", T0 + 300), 1));
        bridge.pollOnce();
        slurm.set(TestJobs.withRestarts(TestJobs.ended("200", SlurmState.FAILED, T0 + 300, T0 + 310, 2, 0), 1));
        bridge.pollOnce();

        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, FAILED), types("200"));
        assertEquals(Instant.ofEpochSecond(T0 + 5), event("200", RUNNING).getOccurredAt(), "the first start");
        assertTrue(((FailedDetails) event("200", FAILED).getDetails()).getErrorMessage().contains("after 1 requeue"));
        assertAllValid();
    }

    @Test
    void aCompletingJobWaitsForItsFinalState() throws Exception {
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.job("300", SlurmState.COMPLETING, "None", T0 + 1, 0, true, -1, 0));
        bridge.pollOnce();
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING), types("300"));
        slurm.set(TestJobs.ended("300", SlurmState.CANCELLED, T0 + 1, T0 + 4, 0, 15));
        bridge.pollOnce();
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, CANCELLED), types("300"));
    }

    @Test
    void identityOfArrayTasksAndCorrelationFromTheComment() throws Exception {
        slurm.set(TestJobs.pending("400_0"));
        slurm.set(TestJobs.pending("400_1"));
        slurm.set(TestJobs.withComment(TestJobs.pending("401"), "nightly corr:req-7f3a, run 2"));
        bridge().pollOnce();

        assertEquals("slurm:hpc1:400", event("400_0", SUBMITTED).getCorrelationId(), "one sbatch request");
        assertEquals("slurm:hpc1:400", event("400_1", SUBMITTED).getCorrelationId());
        assertEquals("400_1", ((QueuedDetails) event("400_1", QUEUED).getDetails()).getHpcJobId());
        assertEquals("req-7f3a", event("401", SUBMITTED).getCorrelationId());
        Set<String> ids = new HashSet<>();
        topic.stored.forEach(e -> ids.add(e.getEventId()));
        assertEquals(topic.stored.size(), ids.size());
        LifecycleSteps steps = new LifecycleSteps("hpc1");
        assertEquals(steps.eventId("401", SUBMITTED), event("401", SUBMITTED).getEventId(), "deterministic");
    }

    @Test
    void aRestartedBridgePublishesOnlyWhatIsNew() throws Exception {
        slurm.set(TestJobs.pending("500")).set(TestJobs.running("501", T0 + 1));
        bridge().pollOnce();
        slurm.set(TestJobs.ended("500", SlurmState.COMPLETED, T0 + 2, T0 + 3, 0, 0));
        slurm.set(TestJobs.ended("501", SlurmState.FAILED, T0 + 1, T0 + 3, 1, 0));

        bridge().pollOnce(); // a new process, the same state file
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("500"));
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, FAILED), types("501"));
        assertEquals("slurm-bridge:hpc1:synthesized", event("500", RUNNING).getProducer());
        assertNoDuplicates();
    }

    @Test
    void aPublicationInterruptedAfterSendingIsCheckedAgainstTheTopicNotRepeated() throws Exception {
        slurm.set(TestJobs.ended("600", SlurmState.COMPLETED, T0 + 2, T0 + 3, 0, 0));
        topic.storeButFailAfter(2); // SUBMITTED and QUEUED reach the topic; the bridge never hears back
        assertThrows(EventLogException.class, () -> bridge().pollOnce());
        assertEquals(List.of(SUBMITTED, QUEUED), types("600"));

        topic.healed();
        SlurmBridge.Cycle cycle = bridge().pollOnce(); // restarted
        assertEquals(2, cycle.republished(), "RUNNING and COMPLETED, which had not arrived");
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("600"));
        assertEquals(0, bridge().pollOnce().published());
        assertNoDuplicates();
        assertAllValid();
    }

    @Test
    void whileSlurmIsAwayNothingIsRecordedAndTheBridgeCatchesUpAfterwards() throws Exception {
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.pending("700"));
        bridge.pollOnce();
        slurm.unreachable("slurm_load_jobs error: Unable to contact slurm controller (connect failure)");
        slurm.set(TestJobs.ended("700", SlurmState.COMPLETED, T0 + 2, T0 + 3, 0, 0));
        assertThrows(SlurmUnavailableException.class, bridge::pollOnce);

        Thread runner = new Thread(bridge::run);
        runner.start();
        try {
            awaitQueries(3);
            assertEquals(List.of(SUBMITTED, QUEUED), types("700"));
            slurm.unreachable(null);
            await(() -> types("700").size() == 4);
        } finally {
            bridge.stop();
            runner.join(5_000);
        }
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("700"));
        assertNoDuplicates();
    }

    @Test
    void whileKafkaIsAwayTheJournalWaitsAndNothingIsLostOrRepeated() throws Exception {
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.pending("750"));
        topic.down(true);
        assertThrows(EventLogException.class, bridge::pollOnce);
        slurm.set(TestJobs.running("750", T0 + 3));
        topic.down(false);
        bridge.pollOnce();
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING), types("750"));
        assertNoDuplicates();
    }

    @Test
    void hookRecordsCloseTheGapsWhenSqueueHasForgottenAJob() throws Exception {
        Files.writeString(spool, ""); // exists before the bridge's first start: history before it is not read
        SlurmBridge bridge = bridge();
        slurm.set(TestJobs.running("800", T0 + 1));
        bridge.pollOnce();

        // The bridge is away longer than MinJobAge: 800 ends and is purged; 801 and 802 live and die unseen.
        slurm.forget("800");
        appendSpool("""
                {"hook":"jobcomp","time":"%1$d","job_id":"800","array_job_id":"0","array_task_id":"4294967294","user":"alice","name":"imaging","partition":"debug","state":"FAILED","exit_code":"2:0","submit":"%2$d","start":"%3$d","end":"%1$d","node_count":"1","nodes":"n1","cpus":"4","limit":"01:00:00","work_dir":"/home/alice","stdout":"","reason":"NonZeroExitCode"}
                {"hook":"prolog","time":"%3$d","job_id":"801","user":"bob","name":"calib","partition":"debug","comment":"corr:c-801","node_count":"1","nodes":"n1","restarts":"0","work_dir":"/home/bob"}
                {"hook":"jobcomp","time":"%1$d","job_id":"801","array_job_id":"0","array_task_id":"4294967294","user":"bob","name":"calib","partition":"debug","state":"COMPLETED","exit_code":"0:0","submit":"%2$d","start":"%3$d","end":"%1$d","node_count":"1","nodes":"n1","cpus":"2","limit":"UNLIMITED","work_dir":"/home/bob","stdout":"","reason":"None"}
                {"hook":"prolog","time":"%3$d","job_id":"802","user":"carol","name":"find","partition":"debug","node_count":"1","nodes":"n1","work_dir":"/home/carol"}
                {"hook":"epilog","time":"%1$d","job_id":"802","user":"carol","name":"find","partition":"debug","node_count":"1","nodes":"n1","exit_code":"0:0","work_dir":"/home/carol"}
                """.formatted(T0 + 9, T0, T0 + 1));
        bridge().pollOnce();

        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, FAILED), types("800"));
        assertEquals(2, ((FailedDetails) event("800", FAILED).getDetails()).getExitCode());
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("801"));
        assertEquals("c-801", event("801", COMPLETED).getCorrelationId(), "from the prolog's comment");
        assertEquals("slurm-bridge:hpc1", event("801", COMPLETED).getProducer(), "jobcomp saw the end");
        assertEquals(Instant.ofEpochSecond(T0), event("801", SUBMITTED).getOccurredAt());
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), types("802"));
        assertEquals("slurm-bridge:hpc1:synthesized", event("802", COMPLETED).getProducer(),
                "the epilog does not know the state: COMPLETED is inferred from exit 0:0");
        assertNoDuplicates();
        assertAllValid();
    }

    @Test
    void aNewBridgeStartsAtTheEndOfTheSpool() throws Exception {
        appendSpool("{\"hook\":\"jobcomp\",\"time\":\"%d\",\"job_id\":\"900\",\"user\":\"x\",\"state\":\"COMPLETED\",\"exit_code\":\"0:0\",\"submit\":\"%d\",\"start\":\"%d\",\"end\":\"%d\",\"node_count\":\"1\",\"nodes\":\"n1\"}\n"
                .formatted(T0, T0, T0, T0));
        bridge().pollOnce();
        assertEquals(List.of(), topic.stored);
    }

    @Test
    void aJobPendingForWeeksIsPublishedWithItsRealSubmitTime() throws Exception {
        long submitted = Instant.now().minus(Duration.ofDays(40)).getEpochSecond();
        SlurmJob old = TestJobs.pending("950");
        slurm.set(new SlurmJob(old.key(), old.submission(), old.user(), old.name(), old.partition(), null,
                SlurmState.PENDING, "JobHeldAdmin", submitted, 0, 0, false, 1, 1, 1L << 30, null, -1, 0, 0, 3, null,
                SlurmJob.Source.SQUEUE));
        bridge().pollOnce();
        assertEquals(List.of(SUBMITTED, QUEUED), types("950"));
        assertEquals(Instant.ofEpochSecond(submitted), event("950", SUBMITTED).getOccurredAt());
        assertEquals(Duration.ofDays(365).toMillis(),
                ((SubmittedDetails) event("950", SUBMITTED).getDetails()).getRequestedWalltimeMs(),
                "no time limit: a year, as Slurm reports it");
        assertEquals(3, ((QueuedDetails) event("950", QUEUED).getDetails()).getQueuePosition());
    }

    @Test
    void aStateFileBelongsToOneCluster() throws Exception {
        slurm.set(TestJobs.pending("960"));
        bridge().pollOnce();
        IOException wrong = assertThrows(IOException.class, () -> new SlurmBridge(
                SlurmBridge.Config.of("hpc2", Duration.ofSeconds(1), dir.resolve("state.json"), null), slurm, topic));
        assertTrue(wrong.getMessage().contains("give every cluster its own --state-file"), wrong.getMessage());
    }

    // ------------------------------------------------------------------------------------------ helpers

    void appendSpool(String lines) throws IOException {
        Files.writeString(spool, lines, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    void assertNoDuplicates() {
        Set<String> ids = new HashSet<>();
        for (JobLifecycleEvent e : topic.stored) {
            assertTrue(ids.add(e.getEventId()), () -> "duplicate " + e);
        }
    }

    /** Every event passes the contract, and every job's steps form a valid lifecycle. */
    void assertAllValid() throws Exception {
        EventValidator validator = new EventValidator();
        for (JobLifecycleEvent e : topic.stored) {
            validator.validate(e, System.currentTimeMillis());
        }
        topic.stored.stream().map(JobLifecycleEvent::getJobId).distinct().forEach(job -> {
            List<LifecycleEventType> t = topic.of(job).stream().map(JobLifecycleEvent::getEventType).toList();
            assertTrue(t.size() >= 2 && t.get(0) == SUBMITTED && t.get(1) == QUEUED, job + " " + t);
            if (t.contains(COMPLETED)) {
                assertTrue(t.indexOf(RUNNING) == 2, job + " " + t);
            }
            assertTrue(t.size() <= 4, job + " " + t);
        });
    }

    void awaitQueries(int n) {
        int start = slurm.queries;
        await(() -> slurm.queries >= start + n);
    }

    static void await(java.util.function.BooleanSupplier condition) {
        boolean held = Poll.until(Duration.ofSeconds(10), Duration.ofMillis(5), condition);
        if (!held && Thread.currentThread().isInterrupted()) {
            throw new AssertionError("interrupted");
        }
        assertTrue(held, "timed out");
    }
}
