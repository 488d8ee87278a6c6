package io.cosmichorizons.pipeline.metrics;

import static io.cosmichorizons.events.LifecycleEventType.COMPLETED;
import static io.cosmichorizons.events.LifecycleEventType.QUEUED;
import static io.cosmichorizons.events.LifecycleEventType.RUNNING;
import static io.cosmichorizons.pipeline.metrics.JobEvents.at;
import static io.cosmichorizons.pipeline.metrics.JobEvents.envelope;
import static io.cosmichorizons.pipeline.metrics.JobEvents.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.FleetEvent;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.JobSummary;
import io.cosmichorizons.events.internal.JobMetricsState;
import io.cosmichorizons.events.internal.MetricsWindow;
import io.cosmichorizons.events.internal.SamplePoint;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JobMetricsTrackerTest {
    private static final Duration GRACE = Duration.ofMinutes(10);
    private static final Duration IDLE_TTL = Duration.ofDays(1);
    private static final long GIB = 1L << 30;

    private KeyedTwoInputStreamOperatorTestHarness<String, JobStatus, InputEnvelope, MetricsAggregate> harness;
    private final JobEvents.Job job = new JobEvents.Job("j1", "setonix", "work", 4, 3_600_000L);

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
        harness.open();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, JobStatus, InputEnvelope, MetricsAggregate> newHarness()
            throws Exception {
        JobMetricsTracker fn = new JobMetricsTracker(new JobMetricsTracker.Settings(Duration.ofMinutes(1), GRACE, IDLE_TTL));
        return new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(fn), JobStatus::getJobId,
                e -> ((JobMetricsEvent) e.getEvent()).getJobId(), Types.STRING);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void windowsAggregateSamplesAndHandleCounterResets() throws Exception {
        startJob();
        samples(sample("j1", 30, 350, 2 * GIB, 100, 10, 30_000),
                sample("j1", 50, 390, 3 * GIB, 300, 30, 50_000),
                sample("j1", 70, 400, 1 * GIB, 50, 5, 70_000), // the process restarted: counters begin again
                sample("j1", 90, 380, 1 * GIB, 80, 9, 90_000));
        watermark(at(120) - 1);

        List<MetricsAggregate> windows = harness.extractOutputValues();
        assertEquals(2, windows.size());
        MetricsAggregate first = windows.get(0);
        assertEquals(at(0), first.getWindowStart().toEpochMilli());
        assertEquals(at(60), first.getWindowEnd().toEpochMilli());
        assertEquals(2, first.getSampleCount());
        assertEquals(370.0, first.getCpuAvg(), 1e-9);
        assertEquals(390.0, first.getCpuMax(), 1e-9);
        assertEquals(3 * GIB, first.getRssPeakBytes());
        assertEquals(300, first.getIoReadDeltaBytes(), "from 0 to 100, then to 300");
        assertEquals(30, first.getIoWriteDeltaBytes());
        assertEquals(5.0, first.getIoReadRateBps(), 1e-9);
        MetricsAggregate second = windows.get(1);
        assertEquals(50 + 30, second.getIoReadDeltaBytes(), "a reset counts the new value, then 50 -> 80");
        assertEquals(5 + 4, second.getIoWriteDeltaBytes());
        assertEquals(1 * GIB, second.getRssPeakBytes());
        assertTrue(deadLetters().isEmpty());
    }

    @Test
    void aSampleAfterItsWindowFiredIsLateAndCounted() throws Exception {
        startJob();
        samples(sample("j1", 30, 350, GIB, 100, 10, 30_000), sample("j1", 90, 350, GIB, 200, 20, 90_000));
        watermark(at(150));
        assertEquals(2, harness.extractOutputValues().size());

        samples(sample("j1", 45, 999, 5 * GIB, 150, 15, 45_000));
        List<DeadLetter> late = deadLetters();
        assertEquals(1, late.size());
        assertEquals(DeadLetterReason.LATE_SAMPLE, late.get(0).getReason());
        assertEquals(JobMetricsTracker.STAGE, late.get(0).getStage());
        assertEquals("j1", late.get(0).getJobId());
        assertEquals(2, harness.extractOutputValues().size(), "a written window is never changed");

        finish(COMPLETED, 200);
        JobSummary summary = lastSummary();
        assertEquals(3, summary.getSampleCount(), "the late sample counts in the summary");
        assertEquals(1, summary.getLateSampleCount());
        assertEquals(5 * GIB, summary.getPeakRssBytes());
        assertEquals(200, summary.getIoReadBytes(), "cumulative counters: a late middle sample adds no bytes");
    }

    @Test
    void theSummaryComesWhenTheWatermarkPassesTheEnd() throws Exception {
        startJob(); // RUNNING at 0 with 4 cores
        samples(sample("j1", 60, 400, 2 * GIB, 1_000, 100, 60_000),
                sample("j1", 120, 200, 3 * GIB, 3_000, 300, 120_000));
        harness.processElement1(new StreamRecord<>(job.step(COMPLETED, 150), at(150)));
        assertTrue(summaries().isEmpty(), "not before the watermark passed the end");
        watermark(at(150));

        JobSummary s = lastSummary();
        assertEquals(COMPLETED, s.getFinalStatus());
        assertEquals(150_000L, s.getRunMs());
        assertEquals(60_000L, s.getQueueWaitMs());
        assertEquals(2, s.getSampleCount());
        assertEquals(4.0 * 60 + 2.0 * 60, s.getCpuSeconds(), 1e-9, "cpu% / 100 x seconds since the previous sample");
        assertEquals((4.0 * 60 + 2.0 * 60) / (4 * 150.0), s.getEfficiency(), 1e-9);
        assertEquals(3 * GIB, s.getPeakRssBytes());
        assertEquals(3_000, s.getIoReadBytes());
        assertEquals(300, s.getIoWriteBytes());
        // The last window (120..180) has not fired yet: the summary includes its sample anyway.
        assertEquals(1, harness.extractOutputValues().size());
    }

    @Test
    void lateSamplesWithinTheGraceUpdateTheSummaryThenTheStateIsCleared() throws Exception {
        startJob();
        samples(sample("j1", 60, 400, GIB, 1_000, 100, 60_000));
        finish(COMPLETED, 150);
        assertEquals(1, summaries().size());

        samples(sample("j1", 140, 400, 4 * GIB, 1_500, 150, 140_000)); // after the summary, before the grace ends
        assertEquals(2, summaries().size(), "a sample after the summary updates it");
        JobSummary updated = lastSummary();
        assertEquals(2, updated.getSampleCount());
        assertEquals(1_500, updated.getIoReadBytes());
        assertEquals(4 * GIB, updated.getPeakRssBytes());

        assertTrue(harness.numKeyedStateEntries() > 0);
        watermark(at(150) + GRACE.toMillis());
        assertEquals(0, harness.numKeyedStateEntries(), "no state after the grace period");
        assertEquals(0, harness.numEventTimeTimers(), "no event-time timers left");
        assertEquals(0, harness.numProcessingTimeTimers(), "no processing-time timers left");

        samples(sample("j1", 145, 400, GIB, 1_600, 160, 145_000));
        assertEquals(2, summaries().size(), "after the grace period a late sample changes nothing");
        assertEquals(0, harness.numKeyedStateEntries(), "and leaves no state behind");
    }

    @Test
    void aJobThatNeverRanGetsASummaryWithoutEfficiency() throws Exception {
        JobEvents.Job cancelled = new JobEvents.Job("j2", "gadi", "debug", 2, 600_000L);
        harness.processElement1(new StreamRecord<>(cancelled.submitted(0), at(0)));
        harness.processElement1(new StreamRecord<>(cancelled.step(QUEUED, 5), at(5)));
        harness.processElement1(new StreamRecord<>(cancelled.step(LifecycleEventType.CANCELLED, 65), at(65)));
        watermark(at(65));
        JobSummary s = lastSummary();
        assertEquals(LifecycleEventType.CANCELLED, s.getFinalStatus());
        assertEquals(60_000L, s.getQueueWaitMs());
        assertNull(s.getRunMs());
        assertNull(s.getEfficiency());
        assertNull(s.getPeakRssBytes());
        assertEquals(0, s.getSampleCount());
        watermark(at(65) + GRACE.toMillis());
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
    }

    @Test
    void fleetEventsCountTheJobOnceEvenWhenAStepComesLate() throws Exception {
        JobEvents.Job j = new JobEvents.Job("j3", "setonix", "work", 4, 3_600_000L, "user-7");
        harness.processElement1(new StreamRecord<>(j.submitted(0), at(0)));
        harness.processElement1(new StreamRecord<>(j.step(QUEUED, 10), at(10)));
        harness.processElement1(new StreamRecord<>(j.step(LifecycleEventType.CANCELLED, 200), at(200)));
        harness.processElement1(new StreamRecord<>(j.backfill(RUNNING, 100), at(100))); // RUNNING arrived after CANCELLED
        watermark(at(200));
        List<FleetEvent> system = fleet().stream().filter(e -> e.getScope().equals(FleetFacts.SYSTEM)).toList();
        assertEquals(fleet().size() / 2, system.size(), "each change goes to the system and to the user");
        assertEquals(1, system.stream().mapToInt(FleetEvent::getSubmitted).sum());
        assertEquals(1, system.stream().mapToInt(FleetEvent::getStarted).sum());
        assertEquals(1, system.stream().mapToInt(FleetEvent::getCancelled).sum());
        assertEquals(0, system.stream().mapToInt(FleetEvent::getQueuedDelta).sum(), "left the queue once");
        assertEquals(0, system.stream().mapToInt(FleetEvent::getRunningDelta).sum());
        // Net changes at each time: queued +1 at 10, -1 at 100; running +1 at 100, -1 at 200.
        assertEquals(-1, netQueued(system, at(100)));
        assertEquals(0, netQueued(system, at(200)));
        assertEquals(List.of(100_000L), system.stream().map(FleetEvent::getRunMs).filter(Objects::nonNull).toList());
        assertEquals(List.of(90_000L), system.stream().map(FleetEvent::getQueueWaitMs).filter(Objects::nonNull).toList());
    }

    @Test
    void jobsThatNeverEndAreForgottenAfterTheIdleTtl() throws Exception {
        startJob();
        samples(sample("j1", 30, 350, GIB, 100, 10, 30_000));
        watermark(at(30) + IDLE_TTL.toMillis() - 1);
        assertTrue(harness.numKeyedStateEntries() > 0);
        watermark(at(30) + IDLE_TTL.toMillis());
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
    }

    @Test
    void stateSurvivesASnapshotAndRestore() throws Exception {
        startJob();
        samples(sample("j1", 30, 350, GIB, 100, 10, 30_000));
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = newHarness();
        harness.initializeState(snapshot);
        harness.open();
        samples(sample("j1", 50, 350, GIB, 400, 40, 50_000));
        watermark(at(60));
        MetricsAggregate w = harness.extractOutputValues().get(0);
        assertEquals(2, w.getSampleCount());
        assertEquals(400, w.getIoReadDeltaBytes());
    }

    // ------------------------------------------------------------------------------------------ helpers

    @Test
    void openWindowsThatAnEarlierReleaseKeptInTheJobStateStillFire() throws Exception {
        startJob();
        // The layout of releases before the open windows had a state of their own: a window inside the job's value.
        ValueState<JobMetricsState> value = jobState("j1");
        JobMetricsState earlier = value.value();
        SamplePoint kept = SampleMath.point(sample("j1", 30, 350, 2 * GIB, 100, 10, 30_000));
        earlier.setOpenWindows(List.of(new MetricsWindow(at(0), List.of(kept))));
        earlier.setSampleCount(1);
        value.update(earlier);

        samples(sample("j1", 50, 390, 3 * GIB, 300, 30, 50_000));
        watermark(at(60) - 1);

        List<MetricsAggregate> windows = harness.extractOutputValues();
        assertEquals(1, windows.size(), "the window fires: moving it registers its timer again");
        assertEquals(2, windows.get(0).getSampleCount(), "with the sample kept by the earlier release");
        assertEquals(300, windows.get(0).getIoReadDeltaBytes());
        assertEquals(3 * GIB, windows.get(0).getRssPeakBytes());
        finish(COMPLETED, 100);
        assertEquals(2, lastSummary().getSampleCount());
    }

    @Test
    void openWindowsOfAReleaseWithoutTheListOfStartsAreFoundFiredAndCleared() throws Exception {
        startJob();
        samples(sample("j1", 30, 350, 2 * GIB, 100, 10, 30_000));
        // The layout of the release before the list of starts: the window only in the map state.
        ValueState<JobMetricsState> value = jobState("j1");
        JobMetricsState earlier = value.value();
        assertEquals(List.of(at(0)), earlier.getOpenWindowStarts());
        earlier.setOpenWindowStarts(null);
        value.update(earlier);

        samples(sample("j1", 50, 390, 3 * GIB, 300, 30, 50_000), sample("j1", 70, 400, 3 * GIB, 400, 40, 70_000));
        finish(COMPLETED, 80);
        assertEquals(3, lastSummary().getSampleCount());
        List<MetricsAggregate> windows = harness.extractOutputValues();
        assertEquals(1, windows.size());
        assertEquals(2, windows.get(0).getSampleCount(), "the sample before the upgrade and the one after");
        watermark(at(80) + GRACE.toMillis());
        windows = harness.extractOutputValues();
        assertEquals(2, windows.size(), "the window after the upgrade fires too");
        assertEquals(1, windows.get(1).getSampleCount());
        assertEquals(0, harness.numKeyedStateEntries(), "no state after the grace period");
        assertEquals(0, harness.numEventTimeTimers(), "no event-time timers left");
    }

    @Test
    void aJobClearedWithWindowsStillOpenLeavesNoStateOrTimers() throws Exception {
        startJob();
        finish(COMPLETED, 30);
        // Samples taken after the end, in windows that close after the grace period.
        long afterGrace = (GRACE.toMillis() + 120_000) / 1000;
        samples(sample("j1", afterGrace, 350, 2 * GIB, 100, 10, 30_000),
                sample("j1", afterGrace + 60, 350, 2 * GIB, 200, 20, 90_000));
        watermark(at(30) + GRACE.toMillis());
        assertEquals(0, harness.numKeyedStateEntries(), "the clean-up removes the open windows by their starts");
        assertEquals(0, harness.numEventTimeTimers(), "and their timers");
    }

    /** The tracker's value state of {@code jobId}, to plant the layouts of earlier releases. */
    private ValueState<JobMetricsState> jobState(String jobId) throws Exception {
        var backend = harness.getOperator().getKeyedStateBackend();
        backend.setCurrentKey(jobId);
        return backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new ValueStateDescriptor<>("job-metrics", new AvroTypeInfo<>(JobMetricsState.class)));
    }

    private void startJob() throws Exception {
        harness.processElement1(new StreamRecord<>(job.submitted(-120), at(-120)));
        harness.processElement1(new StreamRecord<>(job.step(QUEUED, -60), at(-60)));
        harness.processElement1(new StreamRecord<>(job.step(RUNNING, 0), at(0)));
    }

    private void finish(LifecycleEventType type, long seconds) throws Exception {
        harness.processElement1(new StreamRecord<>(job.step(type, seconds), at(seconds)));
        watermark(at(seconds));
    }

    private void samples(JobMetricsEvent... samples) throws Exception {
        for (JobMetricsEvent s : samples) {
            harness.processElement2(new StreamRecord<>(envelope(s), s.getSampledAt().toEpochMilli()));
        }
    }

    private void watermark(long time) throws Exception {
        harness.processBothWatermarks(new Watermark(time));
    }

    private static long netQueued(List<FleetEvent> events, long at) {
        return events.stream().filter(e -> e.getAt() == at).mapToInt(FleetEvent::getQueuedDelta).sum();
    }

    private List<JobSummary> summaries() {
        var out = harness.getSideOutput(JobMetricsTracker.SUMMARIES);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    private JobSummary lastSummary() {
        List<JobSummary> all = summaries();
        assertTrue(!all.isEmpty(), "a summary was emitted");
        return all.get(all.size() - 1);
    }

    private List<FleetEvent> fleet() {
        var out = harness.getSideOutput(JobMetricsTracker.FLEET);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    private List<DeadLetter> deadLetters() {
        var out = harness.getSideOutput(DeadLetterRouting.DEAD_LETTERS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }
}
