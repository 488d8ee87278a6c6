package io.cosmichorizons.pipeline.lifecycle;

import static io.cosmichorizons.events.LifecycleEventType.CANCELLED;
import static io.cosmichorizons.events.LifecycleEventType.COMPLETED;
import static io.cosmichorizons.events.LifecycleEventType.FAILED;
import static io.cosmichorizons.events.LifecycleEventType.QUEUED;
import static io.cosmichorizons.events.LifecycleEventType.RUNNING;
import static io.cosmichorizons.events.LifecycleEventType.SUBMITTED;
import static io.cosmichorizons.pipeline.lifecycle.LifecycleEvents.envelope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LifecycleStateMachineTest {
    private static final Duration REORDER_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration TERMINAL_TTL = Duration.ofHours(24);
    private static final Duration IDLE_TTL = Duration.ofDays(30);

    private KeyedOneInputStreamOperatorTestHarness<String, InputEnvelope, JobStatus> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
        harness.open();
        harness.setProcessingTime(1_000);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, InputEnvelope, JobStatus> newHarness() throws Exception {
        LifecycleStateMachine fn = new LifecycleStateMachine(
                new LifecycleStateMachine.Settings(REORDER_TIMEOUT, 3, TERMINAL_TTL, IDLE_TTL));
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn),
                e -> ((JobLifecycleEvent) e.getEvent()).getJobId(), Types.STRING);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void completedJobEmitsEveryStatusAndOneNotification() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", QUEUED, 1), envelope("j1", RUNNING, 3),
                envelope("j1", COMPLETED, 13));

        List<JobStatus> statuses = statuses();
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), statuses.stream().map(JobStatus::getStatus).toList());
        JobStatus last = statuses.get(3);
        assertEquals(4, last.getVersion());
        assertEquals(2 * 60_000L, last.getQueueWaitMs());
        assertEquals(10 * 60_000L, last.getRunMs());
        assertEquals(0, last.getExitCode());
        assertEquals("setonix", last.getHpcSystem());

        List<Notification> notifications = notifications();
        assertEquals(1, notifications.size());
        assertEquals(COMPLETED, notifications.get(0).getKind());
        assertEquals("s3://out/j1", notifications.get(0).getOutputRef());
        assertEquals(Notifications.notificationId("j1", LifecycleEvents.event("j1", COMPLETED, 13).getEventId()),
                notifications.get(0).getNotificationId());
        assertTrue(deadLetters().isEmpty());
    }

    @Test
    void failedFromQueueAndCancelledFromSubmittedAreValid() throws Exception {
        send(envelope("a", SUBMITTED, 0), envelope("a", QUEUED, 1), envelope("a", FAILED, 2),
                envelope("b", SUBMITTED, 0), envelope("b", CANCELLED, 1));
        assertEquals(List.of(FAILED, CANCELLED), notifications().stream().map(Notification::getKind).toList());
        JobStatus a = lastStatus("a");
        assertEquals(60_000L, a.getQueueWaitMs());
        assertNull(a.getRunMs());
        assertEquals("NonZeroExitCode", a.getErrorCode());
        assertTrue(deadLetters().isEmpty());
    }

    @Test
    void duplicatesAreDeadLetteredAndChangeNothing() throws Exception {
        InputEnvelope submitted = envelope("j1", SUBMITTED, 0);
        send(submitted, envelope("j1", QUEUED, 1), submitted);
        assertEquals(2, statuses().size());
        assertEquals(List.of(DeadLetterReason.DUPLICATE_EVENT), reasons());
        assertEquals(submitted.getSource(), deadLetters().get(0).getSource());
    }

    @Test
    void earlyEventsWaitForTheirPredecessor() throws Exception {
        send(envelope("j1", RUNNING, 3), envelope("j1", COMPLETED, 13), envelope("j1", SUBMITTED, 0));
        assertEquals(List.of(SUBMITTED), statuses().stream().map(JobStatus::getStatus).toList());
        send(envelope("j1", QUEUED, 1));
        assertEquals(List.of(SUBMITTED, QUEUED, RUNNING, COMPLETED), statuses().stream().map(JobStatus::getStatus).toList());
        assertEquals(1, notifications().size());
        assertEquals(0, harness.numEventTimeTimers(), "gap timer is removed once the gap fills");
        assertTrue(deadLetters().isEmpty());
    }

    @Test
    void aLateEarlierStepIsBackfilledAfterTheEnd() throws Exception {
        // QUEUED -> RUNNING -> CANCELLED, but RUNNING arrives after CANCELLED.
        send(envelope("j1", SUBMITTED, 0), envelope("j1", QUEUED, 1), envelope("j1", CANCELLED, 9),
                envelope("j1", RUNNING, 4));
        JobStatus last = lastStatus("j1");
        assertEquals(CANCELLED, last.getStatus());
        assertEquals(4, last.getVersion());
        assertEquals(5 * 60_000L, last.getRunMs());
        assertEquals(1, notifications().size());
        assertTrue(deadLetters().isEmpty());
    }

    @Test
    void impossibleTransitionsAreDeadLettered() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", QUEUED, 1), envelope("j1", RUNNING, 2),
                envelope("j1", COMPLETED, 5));
        JobLifecycleEvent runningAgain = LifecycleEvents.event("j1", RUNNING, 6);
        runningAgain.setEventId("00000000-0000-4000-8000-000000000001");
        JobLifecycleEvent queuedAgain = LifecycleEvents.event("j1", QUEUED, 1);
        queuedAgain.setEventId("00000000-0000-4000-8000-000000000002");
        send(envelope(runningAgain), envelope(queuedAgain));
        assertEquals(List.of(DeadLetterReason.INVALID_TRANSITION, DeadLetterReason.INVALID_TRANSITION), reasons());
        assertTrue(deadLetters().get(0).getMessage().contains("RUNNING after the terminal state COMPLETED"),
                deadLetters().get(0).getMessage());
        assertEquals(4, lastStatus("j1").getVersion());
        assertEquals(1, notifications().size());
    }

    @Test
    void aGapThatNeverFillsIsDeadLetteredAtTheTimeout() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", RUNNING, 3), envelope("j1", COMPLETED, 8));
        assertEquals(1, harness.numEventTimeTimers());
        harness.processWatermark(LifecycleEvents.T0.plusSeconds(180).plus(REORDER_TIMEOUT).toEpochMilli() - 1);
        assertTrue(deadLetters().isEmpty());
        harness.processWatermark(LifecycleEvents.T0.plusSeconds(180).plus(REORDER_TIMEOUT).toEpochMilli());
        assertEquals(List.of(DeadLetterReason.OUT_OF_ORDER_TIMEOUT, DeadLetterReason.OUT_OF_ORDER_TIMEOUT), reasons());
        assertEquals(0, harness.numEventTimeTimers());
        // The expired events may be replayed later once repaired: they are not remembered as seen.
        send(envelope("j1", QUEUED, 1), envelope("j1", RUNNING, 3), envelope("j1", COMPLETED, 8));
        assertEquals(COMPLETED, lastStatus("j1").getStatus());
    }

    @Test
    void theReorderBufferIsBounded() throws Exception {
        send(envelope("j1", QUEUED, 1), envelope("j1", RUNNING, 2), envelope("j1", COMPLETED, 3));
        JobLifecycleEvent extra = LifecycleEvents.event("j1", CANCELLED, 4);
        send(envelope(extra));
        assertEquals(List.of(DeadLetterReason.OUT_OF_ORDER_OVERFLOW), reasons());
    }

    @Test
    void noStateOrTimersAreLeftOnceTheTerminalTtlHasPassed() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", QUEUED, 1), envelope("j1", RUNNING, 2),
                envelope("j1", FAILED, 5), envelope("j2", SUBMITTED, 0), envelope("j2", CANCELLED, 1),
                envelope("j3", QUEUED, 1));
        assertTrue(harness.numKeyedStateEntries() > 0);
        harness.processWatermark(Long.MAX_VALUE); // j3's gap expires
        harness.setProcessingTime(1_000 + TERMINAL_TTL.toMillis());
        assertEquals(0, harness.numKeyedStateEntries(), "all keyed state cleared");
        assertEquals(0, harness.numProcessingTimeTimers(), "no processing-time timers left");
        assertEquals(0, harness.numEventTimeTimers(), "no event-time timers left");
    }

    @Test
    void jobsThatNeverEndAreForgottenAfterTheIdleTtl() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", QUEUED, 1));
        harness.setProcessingTime(1_000 + TERMINAL_TTL.toMillis());
        assertTrue(harness.numKeyedStateEntries() > 0, "a live job is kept past the terminal TTL");
        harness.setProcessingTime(1_000 + IDLE_TTL.toMillis());
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numProcessingTimeTimers());
    }

    @Test
    void stateSurvivesASnapshotAndRestore() throws Exception {
        send(envelope("j1", SUBMITTED, 0), envelope("j1", RUNNING, 2));
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = newHarness();
        harness.initializeState(snapshot);
        harness.open();
        send(envelope("j1", QUEUED, 1), envelope("j1", COMPLETED, 9));
        assertEquals(List.of(QUEUED, RUNNING, COMPLETED), statuses().stream().map(JobStatus::getStatus).toList());
    }

    private void send(InputEnvelope... envelopes) throws Exception {
        for (InputEnvelope e : envelopes) {
            harness.processElement(new StreamRecord<>(e, ((JobLifecycleEvent) e.getEvent()).getOccurredAt().toEpochMilli()));
        }
    }

    private List<JobStatus> statuses() {
        return harness.extractOutputValues();
    }

    private JobStatus lastStatus(String jobId) {
        List<JobStatus> mine = statuses().stream().filter(s -> s.getJobId().equals(jobId)).toList();
        return mine.get(mine.size() - 1);
    }

    private List<Notification> notifications() {
        var out = harness.getSideOutput(LifecycleStateMachine.NOTIFICATIONS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).collect(Collectors.toList());
    }

    private List<DeadLetter> deadLetters() {
        var out = harness.getSideOutput(DeadLetterRouting.DEAD_LETTERS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).filter(Objects::nonNull).toList();
    }

    private List<DeadLetterReason> reasons() {
        return deadLetters().stream().map(DeadLetter::getReason).toList();
    }

}
