package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.FleetEvent;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.JobMetricsState;
import io.cosmichorizons.events.internal.JobSummary;
import io.cosmichorizons.events.internal.MetricsWindow;
import io.cosmichorizons.events.internal.SamplePoint;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.lifecycle.Transitions;
import io.cosmichorizons.serde.DeadLetters;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The per-job metrics of the metrics job, keyed by job_id, from the job's statuses (input 1, derived by the lifecycle
 * rules) and its metrics samples (input 2):
 *
 * <ul>
 *   <li>event-time tumbling windows: one {@link MetricsAggregate} per window with samples, when the watermark passes
 *       the window's end. A sample whose window has already fired is late: it goes to the dead-letter side output as
 *       LATE_SAMPLE and is counted ({@code lateSamples}); it never changes a window that was written.
 *   <li>one {@link JobSummary} (side output {@link #SUMMARIES}) when the watermark passes the job's end, so every
 *       on-time sample is in it. The job's accumulators are kept for {@code summaryGrace} of event time after the
 *       end: late samples within that bound update the summary (emitted again, an idempotent upsert); then the state
 *       is cleared by a timer.
 *   <li>{@link FleetEvent}s (side output {@link #FLEET}) for the fleet statistics.
 * </ul>
 *
 * A job that never ends is forgotten {@code idleTtl} of event time after its last activity.
 *
 * <p>The open windows live in a map state of their own, one entry per window, and the job's other state in a small
 * value. A sample then reads and writes only its window, not every sample still waiting for the watermark: while the
 * pipeline catches up on a backlog the watermark trails the samples, and a single value holding all open windows made
 * each sample cost as much as the job's whole backlog (half of the metrics job's CPU on RocksDB, see the benchmarks'
 * profiling section). Each window has its own timer, so windows fire in order and one at a time. The value lists the
 * open windows' starts, so that a summary or a clean-up reads them by key: iterating the map is a RocksDB seek, which
 * late in a long run steps over the tombstones of every window and job already gone.
 */
public class JobMetricsTracker extends KeyedCoProcessFunction<String, JobStatus, InputEnvelope, MetricsAggregate> {
    private static final long serialVersionUID = 1L;

    public static final String STAGE = "metrics-windows";
    public static final OutputTag<JobSummary> SUMMARIES = new OutputTag<>("job-summaries", new AvroTypeInfo<>(JobSummary.class));
    public static final OutputTag<FleetEvent> FLEET = new OutputTag<>("fleet-events", new AvroTypeInfo<>(FleetEvent.class));

    /** The knobs; defaults are documented in MetricsJobConfig. */
    public record Settings(Duration window, Duration summaryGrace, Duration idleTtl) implements Serializable {}

    private final Settings settings;
    private final long windowMillis;

    private transient ValueState<JobMetricsState> state;
    /** Open windows by start. {@link JobMetricsState#getOpenWindows()} stays empty (it held them in earlier releases). */
    private transient MapState<Long, MetricsWindow> openWindows;
    private transient Counter lateSamples;
    private transient Counter windowsEmitted;
    private transient Counter summariesEmitted;
    /** Latest watermark seen by this subtask, for the windowLagMs gauge. */
    private transient volatile long lastWatermark;

    public JobMetricsTracker(Settings settings) {
        this.settings = settings;
        this.windowMillis = settings.window().toMillis();
    }

    @Override
    public void open(OpenContext openContext) {
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>("job-metrics", new AvroTypeInfo<>(JobMetricsState.class)));
        openWindows = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("job-metrics-open-windows", Types.LONG, new AvroTypeInfo<>(MetricsWindow.class)));
        var metrics = getRuntimeContext().getMetricGroup();
        lateSamples = metrics.counter("lateSamples");
        windowsEmitted = metrics.counter("windowsEmitted");
        summariesEmitted = metrics.counter("summariesEmitted");
        lastWatermark = Long.MIN_VALUE;
        // How far event time (the watermark that fires windows) is behind the wall clock.
        metrics.gauge("windowLagMs", () -> lastWatermark == Long.MIN_VALUE || lastWatermark == Long.MAX_VALUE
                ? 0L : System.currentTimeMillis() - lastWatermark);
    }

    @Override
    public void processElement1(JobStatus status, Context ctx, Collector<MetricsAggregate> out) throws Exception {
        lastWatermark = ctx.timerService().currentWatermark();
        JobMetricsState s = load(ctx);
        boolean ended = Transitions.isTerminal(status.getStatus());
        long grace = settings.summaryGrace().toMillis();
        if (s == null) {
            if (ended && status.getEndedAt().toEpochMilli() + grace <= ctx.timerService().currentWatermark()) {
                return; // a late earlier step of a job whose summary is final
            }
            s = fresh();
        }
        JobStatus previous = s.getStatus();
        if (previous != null && previous.getVersion() >= status.getVersion()) {
            return;
        }
        for (FleetEvent e : FleetFacts.diff(previous, status)) {
            ctx.output(FLEET, e);
        }
        s.setStatus(status);
        touch(s, status.getLastEventAt().toEpochMilli(), ctx);
        if (status.getStatus() == LifecycleEventType.RUNNING && !s.getQueueWaitReported() && status.getQueueWaitMs() != null) {
            report(ctx, FleetFacts.duration(status, status.getStartedAt().toEpochMilli(), status.getQueueWaitMs(), null));
            s.setQueueWaitReported(true);
        }
        if (ended) {
            long endedAt = status.getEndedAt().toEpochMilli();
            if (s.getSummaryEmitted()) {
                emitSummary(s, ctx); // a late earlier step changed the queue wait or the run time
            } else {
                ctx.timerService().registerEventTimeTimer(endedAt);
            }
            ctx.timerService().registerEventTimeTimer(endedAt + grace);
        }
        state.update(s);
    }

    @Override
    public void processElement2(InputEnvelope envelope, Context ctx, Collector<MetricsAggregate> out) throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        lastWatermark = watermark;
        JobMetricsEvent sample = (JobMetricsEvent) envelope.getEvent();
        SamplePoint p = SampleMath.point(sample);
        long windowStart = SampleMath.windowStart(p.getSampledAt(), windowMillis);
        JobMetricsState s = load(ctx);
        if (windowStart + windowMillis - 1 <= watermark) {
            lateSamples.inc();
            ctx.output(DeadLetterRouting.DEAD_LETTERS, DeadLetters.of(DeadLetterReason.LATE_SAMPLE, "Sample of job "
                    + sample.getJobId() + " taken at " + sample.getSampledAt() + " arrived after its window ["
                    + Instant.ofEpochMilli(windowStart) + ", +" + settings.window() + ") was written (watermark "
                    + Instant.ofEpochMilli(watermark) + ")" + (s == null ? "" : "; it still counts in the job's summary"),
                    STAGE, envelope.getSource(), sample));
            if (s != null) {
                s.setLateSampleCount(s.getLateSampleCount() + 1);
                count(s, p);
                if (s.getBaseline() == null || p.getSampledAt() > s.getBaseline().getSampledAt()) {
                    // Its window is written, but its counters still belong to the job's totals.
                    SampleMath.Totals t = totals(s);
                    t.add(p);
                    store(s, t);
                }
                if (s.getSummaryEmitted()) {
                    emitSummary(s, ctx);
                }
                state.update(s);
            }
            return;
        }
        if (s == null) {
            s = fresh();
        }
        List<Long> starts = s.getOpenWindowStarts();
        MetricsWindow w = starts.contains(windowStart) ? openWindows.get(windowStart) : null;
        if (w == null) {
            w = MetricsWindow.newBuilder().setWindowStart(windowStart).setPoints(new ArrayList<>()).build();
            ctx.timerService().registerEventTimeTimer(windowStart + windowMillis - 1);
            starts.add(windowStart);
        } else {
            w.setPoints(new ArrayList<>(w.getPoints())); // Avro hands back its own array type
        }
        w.getPoints().add(p);
        openWindows.put(windowStart, w);
        count(s, p);
        touch(s, p.getSampledAt(), ctx);
        if (s.getSummaryEmitted()) {
            emitSummary(s, ctx);
        }
        state.update(s);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MetricsAggregate> out) throws Exception {
        lastWatermark = ctx.timerService().currentWatermark();
        JobMetricsState s = load(ctx);
        if (s == null) {
            return;
        }
        String jobId = ctx.getCurrentKey();
        // Every window has its own timer and timers fire in order, so only the window ending now can be due; an open
        // window starting at dueStart is one that ends now.
        long dueStart = timestamp - windowMillis + 1;
        MetricsWindow w = s.getOpenWindowStarts().contains(dueStart) ? openWindows.get(dueStart) : null;
        if (w != null) {
            openWindows.remove(dueStart);
            s.getOpenWindowStarts().remove(Long.valueOf(dueStart));
            out.collect(SampleMath.window(jobId, w.getWindowStart(), windowMillis, s.getBaseline(), w.getPoints()));
            windowsEmitted.inc();
            SampleMath.Totals t = totals(s);
            SampleMath.sorted(w.getPoints()).forEach(t::add);
            store(s, t);
        }
        JobStatus status = s.getStatus();
        if (status != null && Transitions.isTerminal(status.getStatus())) {
            long endedAt = status.getEndedAt().toEpochMilli();
            if (!s.getSummaryEmitted() && timestamp >= endedAt) {
                emitSummary(s, ctx);
                s.setSummaryEmitted(true);
                reportDurations(s, ctx);
            }
            if (timestamp >= endedAt + settings.summaryGrace().toMillis()) {
                clear(s, ctx);
                return;
            }
        }
        if (timestamp == s.getIdleTimer()) {
            long due = s.getLastActivity() + settings.idleTtl().toMillis();
            if (due <= timestamp) {
                clear(s, ctx);
                return;
            }
            ctx.timerService().registerEventTimeTimer(due);
            s.setIdleTimer(due);
        }
        state.update(s);
    }

    /** Queue wait and run time go to the fleet statistics once the job's on-time events are all in. */
    private void reportDurations(JobMetricsState s, Context ctx) {
        JobStatus status = s.getStatus();
        if (!s.getQueueWaitReported() && status.getQueueWaitMs() != null) {
            long left = (status.getStartedAt() != null ? status.getStartedAt() : status.getEndedAt()).toEpochMilli();
            report(ctx, FleetFacts.duration(status, left, status.getQueueWaitMs(), null));
            s.setQueueWaitReported(true);
        }
        if (!s.getRunReported() && status.getRunMs() != null) {
            report(ctx, FleetFacts.duration(status, status.getEndedAt().toEpochMilli(), null, status.getRunMs()));
            s.setRunReported(true);
        }
    }

    private static void report(Context ctx, List<FleetEvent> events) {
        events.forEach(e -> ctx.output(FLEET, e));
    }

    private void emitSummary(JobMetricsState s, Context ctx) throws Exception {
        // The totals so far plus the samples still waiting in open windows.
        SampleMath.Totals t = totals(s);
        List<SamplePoint> pending = new ArrayList<>();
        for (Long start : s.getOpenWindowStarts()) {
            MetricsWindow w = openWindows.get(start);
            if (w != null) {
                pending.addAll(w.getPoints());
            }
        }
        SampleMath.sorted(pending).forEach(t::add);
        JobStatus st = s.getStatus();
        Double efficiency = null;
        if (st.getRunMs() != null && st.getRunMs() > 0 && st.getRequestedCores() != null && st.getRequestedCores() > 0) {
            efficiency = t.cpuSeconds / (st.getRequestedCores() * (st.getRunMs() / 1000.0));
        }
        ctx.output(SUMMARIES, JobSummary.newBuilder()
                .setJobId(st.getJobId())
                .setUserId(st.getUserId())
                .setHpcSystem(st.getHpcSystem())
                .setQueue(st.getQueue())
                .setPipeline(st.getPipeline())
                .setFinalStatus(st.getStatus())
                .setStatusVersion(st.getVersion())
                .setRequestedCores(st.getRequestedCores())
                .setRequestedWalltimeMs(st.getRequestedWalltimeMs())
                .setSubmittedAt(millis(st.getSubmittedAt()))
                .setQueuedAt(millis(st.getQueuedAt()))
                .setStartedAt(millis(st.getStartedAt()))
                .setEndedAt(st.getEndedAt().toEpochMilli())
                .setQueueWaitMs(st.getQueueWaitMs())
                .setRunMs(st.getRunMs())
                .setSampleCount(s.getSampleCount())
                .setLateSampleCount(s.getLateSampleCount())
                .setCpuSeconds(t.cpuSeconds)
                .setPeakRssBytes(s.getSampleCount() == 0 ? null : s.getRssPeakBytes())
                .setIoReadBytes(t.ioRead)
                .setIoWriteBytes(t.ioWrite)
                .setEfficiency(efficiency)
                .build());
        summariesEmitted.inc();
    }

    private static void count(JobMetricsState s, SamplePoint p) {
        s.setSampleCount(s.getSampleCount() + 1);
        s.setRssPeakBytes(Math.max(s.getRssPeakBytes(), p.getRssBytes()));
    }

    private static SampleMath.Totals totals(JobMetricsState s) {
        return new SampleMath.Totals(s.getCpuSeconds(), s.getIoReadBytes(), s.getIoWriteBytes(), s.getBaseline());
    }

    private static void store(JobMetricsState s, SampleMath.Totals t) {
        s.setCpuSeconds(t.cpuSeconds);
        s.setIoReadBytes(t.ioRead);
        s.setIoWriteBytes(t.ioWrite);
        s.setBaseline(t.last);
    }

    /** Records activity and makes sure an idle timer exists; it is moved lazily, when it fires. */
    private void touch(JobMetricsState s, long eventTime, Context ctx) {
        s.setLastActivity(Math.max(s.getLastActivity(), eventTime));
        if (s.getIdleTimer() < 0) {
            long due = s.getLastActivity() + settings.idleTtl().toMillis();
            ctx.timerService().registerEventTimeTimer(due);
            s.setIdleTimer(due);
        }
    }

    private void clear(JobMetricsState s, Context ctx) throws Exception {
        for (Long start : s.getOpenWindowStarts()) {
            ctx.timerService().deleteEventTimeTimer(start + windowMillis - 1);
            openWindows.remove(start);
        }
        JobStatus status = s.getStatus();
        if (status != null && status.getEndedAt() != null) {
            ctx.timerService().deleteEventTimeTimer(status.getEndedAt().toEpochMilli());
            ctx.timerService().deleteEventTimeTimer(status.getEndedAt().toEpochMilli() + settings.summaryGrace().toMillis());
        }
        if (s.getIdleTimer() >= 0) {
            ctx.timerService().deleteEventTimeTimer(s.getIdleTimer());
        }
        state.clear();
    }

    private static JobMetricsState fresh() {
        return JobMetricsState.newBuilder().setOpenWindows(new ArrayList<>()).setOpenWindowStarts(new ArrayList<>()).build();
    }

    /**
     * The job's state, its list of open window starts mutable. State written by earlier releases is brought up to date
     * on first access: without the list of starts, it is read once from {@link #openWindows}; with the open windows in
     * the value itself, they move to {@link #openWindows}, with their timers registered again (registering is
     * idempotent).
     */
    private JobMetricsState load(Context ctx) throws Exception {
        JobMetricsState s = state.value();
        if (s == null) {
            return null;
        }
        if (s.getOpenWindowStarts() == null) {
            List<Long> starts = new ArrayList<>();
            openWindows.keys().forEach(starts::add);
            s.setOpenWindowStarts(starts);
            state.update(s);
        } else {
            s.setOpenWindowStarts(new ArrayList<>(s.getOpenWindowStarts())); // Avro hands back its own array type
        }
        if (!s.getOpenWindows().isEmpty()) {
            for (MetricsWindow w : s.getOpenWindows()) {
                MetricsWindow current = openWindows.get(w.getWindowStart());
                List<SamplePoint> points = new ArrayList<>(w.getPoints());
                if (current != null) {
                    points.addAll(current.getPoints());
                }
                openWindows.put(w.getWindowStart(), new MetricsWindow(w.getWindowStart(), points));
                if (!s.getOpenWindowStarts().contains(w.getWindowStart())) {
                    s.getOpenWindowStarts().add(w.getWindowStart());
                }
                ctx.timerService().registerEventTimeTimer(w.getWindowStart() + windowMillis - 1);
            }
            s.setOpenWindows(new ArrayList<>());
            state.update(s);
        }
        return s;
    }

    private static Long millis(Instant i) {
        return i == null ? null : i.toEpochMilli();
    }
}
