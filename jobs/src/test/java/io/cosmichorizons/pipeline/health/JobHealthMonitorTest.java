package io.cosmichorizons.pipeline.health;

import static io.cosmichorizons.events.LifecycleEventType.COMPLETED;
import static io.cosmichorizons.events.LifecycleEventType.QUEUED;
import static io.cosmichorizons.events.LifecycleEventType.RUNNING;
import static io.cosmichorizons.pipeline.metrics.JobEvents.at;
import static io.cosmichorizons.pipeline.metrics.JobEvents.envelope;
import static io.cosmichorizons.pipeline.metrics.JobEvents.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.metrics.JobEvents;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JobHealthMonitorTest {
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    private static final Map<String, String> DEFAULTS = Map.of(
            JobHealthMonitor.SUBMIT_TIMEOUT, "10m", JobHealthMonitor.QUEUE_SLA, "30m",
            JobHealthMonitor.WALLTIME_GRACE, "5m", JobHealthMonitor.HEARTBEAT_INTERVAL, "1m",
            JobHealthMonitor.HEARTBEAT_MISSED, "3");

    private KeyedTwoInputStreamOperatorTestHarness<String, JobStatus, InputEnvelope, Alert> harness;
    private final JobEvents.Job job = new JobEvents.Job("j1", "setonix", "debug", 4, 3_600_000L);

    @BeforeEach
    void setUp() throws Exception {
        // The debug queue of every system has a shorter SLA than the default.
        Thresholds thresholds = Thresholds.from(Settings.of(Map.of("health.thresholds.*.debug.queue-sla", "10m")), DEFAULTS);
        JobHealthOperator operator = new JobHealthOperator(new JobHealthMonitor.Settings(thresholds, IDLE_TIMEOUT));
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(operator, JobStatus::getJobId,
                e -> ((JobMetricsEvent) e.getEvent()).getJobId(), Types.STRING);
        harness.open();
        harness.setProcessingTime(1_000);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void aJobStuckInItsQueueRaisesAnAlertThatResolvesWhenItStarts() throws Exception {
        status(job.submitted(0));
        status(job.step(QUEUED, 10));
        watermark(at(10 + 600) - 1);
        assertTrue(alerts().isEmpty());
        watermark(at(10 + 600));
        Alert open = single(AlertType.STUCK_QUEUED, AlertState.OPEN);
        assertEquals("j1", open.getSubject());
        assertEquals("setonix", open.getHpcSystem());
        assertEquals(at(610), open.getOpenedAt().toEpochMilli(), "opened at the deadline, in event time");
        assertEquals(600_000.0, open.getThreshold());

        status(job.step(RUNNING, 900));
        Alert resolved = single(AlertType.STUCK_QUEUED, AlertState.RESOLVED);
        assertEquals(open.getAlertId(), resolved.getAlertId(), "the same alert, updated");
        assertEquals(at(900), resolved.getResolvedAt().toEpochMilli());
        assertEquals(890_000.0, resolved.getValue());
    }

    @Test
    void aJobThatMovedOnAfterItsDeadlineGetsItsAlertEvenBeforeTheWatermarkGotThere() throws Exception {
        status(job.submitted(0));
        status(job.step(QUEUED, 10));
        status(job.step(RUNNING, 700)); // the watermark has not reached the deadline (610) yet
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED), alerts().stream().map(Alert::getState).toList());
        assertEquals(at(610), alerts().get(0).getOpenedAt().toEpochMilli());
        assertEquals(alerts().get(0).getAlertId(), alerts().get(1).getAlertId());
    }

    @Test
    void aSilentRunningJobRaisesAHeartbeatAlertThatASampleResolves() throws Exception {
        startJob();
        sample(60);
        sample(120);
        watermark(at(120 + 180) - 1);
        assertTrue(alerts().isEmpty());
        watermark(at(120 + 180));
        Alert open = single(AlertType.MISSING_HEARTBEAT, AlertState.OPEN);
        sample(400);
        assertEquals(1, alerts().size(), "a sample settles once the watermark passes it");
        watermark(at(400));
        Alert resolved = single(AlertType.MISSING_HEARTBEAT, AlertState.RESOLVED);
        assertEquals(at(400), resolved.getResolvedAt().toEpochMilli());
        assertEquals(open.getAlertId(), resolved.getAlertId());
        // The next silence is a new episode with a new id.
        watermark(at(400 + 180));
        List<Alert> opens = alerts().stream().filter(a -> a.getState() == AlertState.OPEN).toList();
        assertEquals(2, opens.size());
        assertTrue(!opens.get(0).getAlertId().equals(opens.get(1).getAlertId()));
    }

    @Test
    void aJobRunningPastItsWalltimeRaisesAnAlertThatResolvesWhenItEnds() throws Exception {
        startJob();
        for (int t = 60; t <= 3_600 + 300 + 60; t += 60) {
            sample(t);
        }
        watermark(at(3_600 + 300));
        Alert open = single(AlertType.STUCK_RUNNING, AlertState.OPEN);
        assertEquals(at(3_900), open.getOpenedAt().toEpochMilli());
        status(job.step(COMPLETED, 4_000));
        single(AlertType.STUCK_RUNNING, AlertState.RESOLVED);
        assertTrue(harness.numKeyedStateEntries() > 0, "kept until every sample before the end is in");
        watermark(at(4_000));
        assertTrue(alerts(AlertType.MISSING_HEARTBEAT).isEmpty());
        assertEquals(0, harness.numKeyedStateEntries(), "state is cleared once the watermark passed the end");
        assertEquals(0, harness.numEventTimeTimers());
        assertEquals(0, harness.numProcessingTimeTimers());
    }

    @Test
    void idleInputStillRaisesTheAlertThroughTheProcessingTimeFallback() throws Exception {
        status(job.submitted(0));
        status(job.step(QUEUED, 10));
        watermark(at(20)); // at processing time 1 000; then nothing arrives any more: the watermark stays here
        assertEquals(0, harness.numProcessingTimeTimers(), "no wall-clock timer before the stall is seen");
        clock(1_000 + 30_000);
        assertEquals(1, harness.numProcessingTimeTimers(), "stalled for the idle timeout: the job sets its fallback");
        // The deadline (610 s) is 590 s of event time past the watermark, counted from when the watermark stopped.
        clock(1_000 + 590_000 - 1);
        assertTrue(alerts().isEmpty());
        clock(1_000 + 590_000);
        Alert open = single(AlertType.STUCK_QUEUED, AlertState.OPEN);
        assertEquals(at(610), open.getOpenedAt().toEpochMilli(), "opened at the deadline, not at the wall clock");
        assertTrue(open.getMessage().contains("idle"), open.getMessage());
        assertEquals(0, harness.numProcessingTimeTimers(), "nothing left to watch while it is open");
        status(job.step(RUNNING, 700));
        single(AlertType.STUCK_QUEUED, AlertState.RESOLVED);
    }

    @Test
    void whileTheWatermarkMovesOnlyEventTimeRaisesAlertsAndNoJobHoldsAWallClockTimer() throws Exception {
        status(job.submitted(0));
        status(job.step(QUEUED, 10));
        // Event time moves 10 s per 20 s of wall clock: slower than the wall clock, but the watermark never stands
        // still for the 30 s idle timeout. The wall clock passes the deadline's distance twice over.
        long wall = 1_000;
        for (int t = 20; t < 610; t += 10) {
            watermark(at(t));
            wall += 20_000;
            clock(wall);
            assertEquals(0, harness.numProcessingTimeTimers(), "the watermark moves: no job needs a wall-clock timer");
        }
        assertTrue(alerts().isEmpty());
        watermark(at(610));
        Alert open = single(AlertType.STUCK_QUEUED, AlertState.OPEN);
        assertFalse(open.getMessage().contains("idle"), "raised by event time: " + open.getMessage());
    }

    @Test
    void aStallIsTimedFromTheWatermarksLastMove() throws Exception {
        status(job.submitted(0));
        status(job.step(QUEUED, 10));
        watermark(at(20));
        clock(300_000); // stalled since 1 000: the fallback is set for 591 000
        watermark(at(400)); // event time moved on at 300 000, and stands still again from there
        // 210 s of event time left from 400 s, counted from 300 000.
        clock(300_000 + 210_000 - 1);
        assertTrue(alerts().isEmpty());
        clock(300_000 + 210_000);
        Alert open = single(AlertType.STUCK_QUEUED, AlertState.OPEN);
        assertEquals(at(610), open.getOpenedAt().toEpochMilli());
        assertTrue(open.getMessage().contains("idle"), open.getMessage());
    }

    @Test
    void aJobFirstSeenDuringAStallSetsItsOwnFallback() throws Exception {
        watermark(at(20)); // at processing time 1 000; then only this job's statuses arrive, and no watermark
        clock(40_000);
        status(job.submitted(30));
        assertEquals(1, harness.numProcessingTimeTimers());
        // Its deadline (630 s) is 600 s past its own newest event, counted from when the watermark stopped.
        clock(1_000 + 600_000 - 1);
        assertTrue(alerts().isEmpty());
        clock(1_000 + 600_000);
        assertEquals(at(630), single(AlertType.STUCK_SUBMITTED, AlertState.OPEN).getOpenedAt().toEpochMilli());
    }

    @Test
    void samplesReadBeforeTheRunningStatusStillCountAsHeartbeats() throws Exception {
        for (int t = 60; t <= 600; t += 60) {
            sample(t); // the metrics topic was read ahead of the lifecycle topic
        }
        startJob();
        status(job.step(COMPLETED, 630));
        watermark(at(630));
        assertTrue(alerts().isEmpty(), () -> "no gap longer than 3 minutes: " + alerts());
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
    }

    @Test
    void aSilenceBeforeTheEndRaisesAndResolvesAHeartbeatAlert() throws Exception {
        startJob();
        sample(60);
        status(job.step(COMPLETED, 600)); // silent from 60 s to the end at 600 s
        watermark(at(600));
        Alert open = single(AlertType.MISSING_HEARTBEAT, AlertState.OPEN);
        assertEquals(at(240), open.getOpenedAt().toEpochMilli());
        assertEquals(at(600), single(AlertType.MISSING_HEARTBEAT, AlertState.RESOLVED).getResolvedAt().toEpochMilli());
        assertEquals(0, harness.numKeyedStateEntries());
    }

    @Test
    void noStateOrTimersAreLeftOnceJobsHaveEnded() throws Exception {
        JobEvents.Job other = new JobEvents.Job("j2", "gadi", "work", 8, 7_200_000L);
        startJob();
        sample(60);
        status(other.submitted(0));
        status(other.step(QUEUED, 5));
        assertTrue(harness.numKeyedStateEntries() > 0);
        status(job.step(COMPLETED, 100));
        status(other.step(io.cosmichorizons.events.LifecycleEventType.CANCELLED, 50));
        watermark(at(100));
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
        assertEquals(0, harness.numProcessingTimeTimers());
        status(job.backfill(QUEUED, 5)); // a late step of an ended job recreates nothing
        assertEquals(0, harness.numKeyedStateEntries());
        assertTrue(alerts().isEmpty());
    }

    // ------------------------------------------------------------------------------------------ helpers

    private void startJob() throws Exception {
        status(job.submitted(-120));
        status(job.step(QUEUED, -60));
        status(job.step(RUNNING, 0));
    }

    private void status(JobStatus s) throws Exception {
        harness.processElement1(new StreamRecord<>(s, s.getLastEventAt().toEpochMilli()));
    }

    private void sample(long seconds) throws Exception {
        JobMetricsEvent e = JobEvents.sample("j1", seconds, 100, 1L << 30, seconds, seconds, seconds * 1000);
        harness.processElement2(new StreamRecord<>(envelope(e), at(seconds)));
    }

    /** Moves the wall clock forward a second at a time, as it does: timers registered on the way fire too. */
    private void clock(long time) throws Exception {
        for (long t = Math.min(time, harness.getProcessingTime() + 1_000); t <= time; t = t == time ? time + 1 : Math.min(time, t + 1_000)) {
            harness.setProcessingTime(t);
        }
    }

    private void watermark(long time) throws Exception {
        harness.processBothWatermarks(new Watermark(time));
    }

    private List<Alert> alerts() {
        return harness.extractOutputValues();
    }

    private List<Alert> alerts(AlertType type) {
        return alerts().stream().filter(a -> a.getAlertType() == type).toList();
    }

    private Alert single(AlertType type, AlertState state) {
        List<Alert> matching = alerts().stream().filter(a -> a.getAlertType() == type && a.getState() == state).toList();
        assertEquals(1, matching.size(), () -> type + "/" + state + " in " + alerts());
        return matching.get(0);
    }
}
