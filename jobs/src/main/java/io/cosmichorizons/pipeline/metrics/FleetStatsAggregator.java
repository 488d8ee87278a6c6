package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.internal.FleetBucket;
import io.cosmichorizons.events.internal.FleetEvent;
import io.cosmichorizons.events.internal.FleetState;
import io.cosmichorizons.events.internal.FleetStats;
import io.cosmichorizons.events.internal.MinuteEnds;
import io.cosmichorizons.pipeline.health.Alerts;
import io.cosmichorizons.pipeline.health.OpenAlertGauge;
import io.cosmichorizons.pipeline.health.RateRule;
import io.cosmichorizons.pipeline.health.Thresholds;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Per-minute fleet statistics of one HPC system or one user (key "scope|subject"), in event time: jobs submitted,
 * started, completed, failed and cancelled in the minute, the failure rate, the queue depth and running jobs at the
 * end of the minute, and p50/p95/p99 of the queue waits and run times that ended in the minute (KLL sketches, see
 * {@link Sketches} for the error bound). A row is written for every minute with changes, and for every minute in
 * between while jobs are queued or running.
 *
 * <p>For HPC systems it also raises ERROR_RATE: failed / (completed + failed) over a sliding window of whole minutes,
 * given a minimum number of ended jobs, with hysteresis ({@link RateRule}); thresholds per system
 * ({@link Thresholds}). Alerts go to the {@link Alerts#ALERTS} side output.
 *
 * <p>A change for a minute that was already written (input later than the watermark) is counted in the next open
 * minute ({@code lateFleetEvents}); the depth stays right, its minute moves. State is cleared once a subject has no
 * queued or running jobs, no open minute, and nothing left in its error-rate window.
 *
 * <p>Each open minute is an entry of its own ({@link #openMinutes}), apart from the subject's small running totals
 * ({@link #state}): a change reads and writes one minute, however many minutes are open. While the pipeline works
 * through a backlog the watermark trails the input and many minutes are open; with all of them in one value, every
 * change (de)serialised all of them (on RocksDB the operator's main cost, see the benchmarks' profiling notes).
 */
public class FleetStatsAggregator extends KeyedProcessFunction<String, FleetEvent, FleetStats> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final long MINUTE = 60_000;
    public static final String ERROR_RATE_WINDOW = "error-rate-window";
    public static final String ERROR_RATE_OPEN = "error-rate-open";
    public static final String ERROR_RATE_RESOLVE = "error-rate-resolve";
    public static final String ERROR_RATE_MIN_JOBS = "error-rate-min-jobs";
    private static final double[] RANKS = {0.5, 0.95, 0.99};

    /** The knobs; defaults are documented in MetricsJobConfig. */
    public record Settings(int sketchK, Thresholds thresholds) implements Serializable {}

    private final Settings settings;

    /** Running totals of the subject: depth, last minute written, the error-rate window. */
    private transient ValueState<FleetState> state;
    /** Changes per open minute, keyed by the minute's start; every entry has a timer at its minute's end. */
    private transient MapState<Long, FleetBucket> openMinutes;
    private transient ValueState<Alert> openErrorAlert;
    private transient Counter lateEvents;
    private transient OpenAlertGauge gauge;

    public FleetStatsAggregator(Settings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("fleet", new AvroTypeInfo<>(FleetState.class)));
        openMinutes = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("fleet-open-minutes", Types.LONG, new AvroTypeInfo<>(FleetBucket.class)));
        openErrorAlert = getRuntimeContext().getState(
                new ValueStateDescriptor<>("error-rate-alert", new AvroTypeInfo<>(Alert.class)));
        lateEvents = getRuntimeContext().getMetricGroup().counter("lateFleetEvents");
        gauge.register(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(FleetEvent e, Context ctx, Collector<FleetStats> out) throws Exception {
        FleetState s = load();
        if (s == null) {
            s = FleetState.newBuilder().setBuckets(new ArrayList<>()).setRecentEnds(new ArrayList<>()).build();
            state.update(s);
        }
        long minute = Math.floorDiv(e.getAt(), MINUTE) * MINUTE;
        if (minute <= s.getLastClosedMinute()) {
            lateEvents.inc();
            minute = s.getLastClosedMinute() + MINUTE;
        }
        FleetBucket b = openMinutes.get(minute);
        if (b == null) {
            b = FleetBucket.newBuilder().setMinuteStart(minute).build();
        }
        b.setSubmitted(b.getSubmitted() + e.getSubmitted());
        b.setStarted(b.getStarted() + e.getStarted());
        b.setCompleted(b.getCompleted() + e.getCompleted());
        b.setFailed(b.getFailed() + e.getFailed());
        b.setCancelled(b.getCancelled() + e.getCancelled());
        b.setQueuedDelta(b.getQueuedDelta() + e.getQueuedDelta());
        b.setRunningDelta(b.getRunningDelta() + e.getRunningDelta());
        if (e.getQueueWaitMs() != null) {
            b.setQueueWaitSketch(ByteBuffer.wrap(Sketches.add(b.getQueueWaitSketch(), e.getQueueWaitMs(), settings.sketchK())));
        }
        if (e.getRunMs() != null) {
            b.setRunSketch(ByteBuffer.wrap(Sketches.add(b.getRunSketch(), e.getRunMs(), settings.sketchK())));
        }
        ctx.timerService().registerEventTimeTimer(minute + MINUTE - 1);
        openMinutes.put(minute, b);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<FleetStats> out) throws Exception {
        FleetState s = load();
        if (s == null) {
            return;
        }
        // Only closing minutes changes the error-rate window; a list read back from state may not be an ArrayList.
        s.setRecentEnds(new ArrayList<>(s.getRecentEnds()));
        String key = ctx.getCurrentKey();
        boolean endOfInput = ctx.timerService().currentWatermark() == Long.MAX_VALUE;
        // Timers fire in time order and every open minute has one, so no open minute ends before this one.
        long due = timestamp - MINUTE + 1;
        Long next;
        while ((next = nextToClose(s, endOfInput, due)) != null && next <= due) {
            close(s, key, next, ctx, out);
        }
        if (next != null) {
            // The minute after the last written one; an open minute's timer is registered already.
            ctx.timerService().registerEventTimeTimer(next + MINUTE - 1);
            state.update(s);
        } else if (s.getQueuedNow() == 0 && s.getRunningNow() == 0 && s.getRecentEnds().isEmpty()
                && openErrorAlert.value() == null && openMinutes.isEmpty()) {
            state.clear();
        } else {
            state.update(s);
        }
    }

    /**
     * While something is live, the minute after the last written one: jobs queued or running (rows for the quiet
     * minutes in between), or ends in the error-rate window (to let it decay). Otherwise the minute that is due, if
     * it is open, else null (a later open minute has its own timer). At the end of a bounded input (watermark at its
     * maximum) queued or running jobs no longer extend the rows past the last change, since nothing would ever end
     * them; the error-rate window still runs out, so the outcome does not depend on where the watermark was before it
     * jumped.
     *
     * <p>Every open minute is later than the last written one (a late change goes to the next minute), so the minute
     * after the last written one is never later than the earliest open minute.
     */
    private Long nextToClose(FleetState s, boolean endOfInput, long due) throws Exception {
        boolean rateLive = !s.getRecentEnds().isEmpty() || openErrorAlert.value() != null;
        boolean depthLive = (s.getQueuedNow() > 0 || s.getRunningNow() > 0) && (!endOfInput || !openMinutes.isEmpty());
        if ((rateLive || depthLive) && s.getLastClosedMinute() != Long.MIN_VALUE) {
            return s.getLastClosedMinute() + MINUTE;
        }
        return due > s.getLastClosedMinute() && openMinutes.contains(due) ? due : null;
    }

    private void close(FleetState s, String key, long minute, Context ctx, Collector<FleetStats> out) throws Exception {
        FleetBucket b = openMinutes.get(minute);
        if (b != null) {
            openMinutes.remove(minute);
        } else {
            b = FleetBucket.newBuilder().setMinuteStart(minute).build();
        }
        boolean wasLive = s.getQueuedNow() > 0 || s.getRunningNow() > 0;
        s.setQueuedNow(s.getQueuedNow() + b.getQueuedDelta());
        s.setRunningNow(s.getRunningNow() + b.getRunningDelta());
        s.setLastClosedMinute(minute);
        boolean changed = b.getSubmitted() != 0 || b.getStarted() != 0 || b.getCompleted() != 0 || b.getFailed() != 0
                || b.getCancelled() != 0 || b.getQueuedDelta() != 0 || b.getRunningDelta() != 0
                || b.getQueueWaitSketch() != null || b.getRunSketch() != null;
        int sep = key.indexOf('|');
        String scope = key.substring(0, sep);
        String subject = key.substring(sep + 1);
        if (changed || wasLive) {
            out.collect(row(scope, subject, s, b));
        }
        if (FleetFacts.SYSTEM.equals(scope)) {
            trackErrorRate(s, subject, minute, b, ctx);
        }
    }

    private FleetStats row(String scope, String subject, FleetState s, FleetBucket b) {
        int ended = b.getCompleted() + b.getFailed();
        Double[] wait = Sketches.quantiles(b.getQueueWaitSketch(), RANKS);
        Double[] run = Sketches.quantiles(b.getRunSketch(), RANKS);
        return FleetStats.newBuilder()
                .setScope(scope).setSubject(subject).setMinuteStart(b.getMinuteStart())
                .setSubmitted(b.getSubmitted()).setStarted(b.getStarted()).setCompleted(b.getCompleted())
                .setFailed(b.getFailed()).setCancelled(b.getCancelled())
                .setFailureRate(ended > 0 ? (double) b.getFailed() / ended : null)
                .setQueued(Math.max(0, s.getQueuedNow())).setRunning(Math.max(0, s.getRunningNow()))
                .setQueueWaitCount(Sketches.count(b.getQueueWaitSketch()))
                .setQueueWaitP50Ms(wait[0]).setQueueWaitP95Ms(wait[1]).setQueueWaitP99Ms(wait[2])
                .setRunCount(Sketches.count(b.getRunSketch()))
                .setRunP50Ms(run[0]).setRunP95Ms(run[1]).setRunP99Ms(run[2])
                .setQueueWaitSketch(b.getQueueWaitSketch()).setRunSketch(b.getRunSketch())
                .build();
    }

    private void trackErrorRate(FleetState s, String system, long minute, FleetBucket b, Context ctx) throws Exception {
        Thresholds t = settings.thresholds();
        if (b.getCompleted() != 0 || b.getFailed() != 0) {
            s.getRecentEnds().add(MinuteEnds.newBuilder().setMinuteStart(minute)
                    .setCompleted(b.getCompleted()).setFailed(b.getFailed()).build());
        }
        long windowStart = minute + MINUTE - t.millis(ERROR_RATE_WINDOW, system, null);
        s.getRecentEnds().removeIf(m -> m.getMinuteStart() < windowStart);
        long completed = 0;
        long failed = 0;
        for (MinuteEnds m : s.getRecentEnds()) {
            completed += m.getCompleted();
            failed += m.getFailed();
        }
        RateRule rule = new RateRule(t.number(ERROR_RATE_OPEN, system, null), t.number(ERROR_RATE_RESOLVE, system, null),
                (long) t.number(ERROR_RATE_MIN_JOBS, system, null));
        Alert open = openErrorAlert.value();
        long at = minute + MINUTE;
        long ended = completed + failed;
        double rate = RateRule.rate(failed, ended);
        String window = t.duration(ERROR_RATE_WINDOW, system, null).toMinutes() + " min";
        switch (rule.decide(open != null, failed, ended)) {
            case OPEN -> {
                Alert alert = Alerts.open(AlertType.ERROR_RATE, system, system, at, at, String.format(Locale.ROOT,
                        "%.1f %% of the jobs that ended on %s in the last %s failed (%d of %d)", 100 * rate, system,
                        window, failed, ended), rate, rule.openAt());
                openErrorAlert.update(alert);
                emit(alert, ctx);
            }
            case RESOLVE -> {
                emit(Alerts.resolve(open, at, String.format(Locale.ROOT,
                        "The failure rate on %s fell to %.1f %% over the last %s (%d of %d), below %.1f %%", system,
                        100 * rate, window, failed, ended, 100 * rule.resolveBelow()), rate), ctx);
                openErrorAlert.clear();
            }
            case KEEP -> {
                // between the thresholds, or below the minimum volume: no change
            }
        }
    }

    private void emit(Alert alert, Context ctx) {
        gauge.track(alert);
        ctx.output(Alerts.ALERTS, alert);
    }

    /**
     * The subject's running totals. State written by an earlier release holds the open minutes in the value itself:
     * they move to {@link #openMinutes} on first access (their timers were registered by that release).
     */
    private FleetState load() throws Exception {
        FleetState s = state.value();
        if (s == null) {
            return null;
        }
        if (!s.getBuckets().isEmpty()) {
            for (FleetBucket b : s.getBuckets()) {
                openMinutes.put(b.getMinuteStart(), b);
            }
            s.setBuckets(new ArrayList<>());
            state.update(s);
        }
        return s;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        gauge.snapshot();
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        gauge = new OpenAlertGauge();
        gauge.initialize(context);
    }
}
