package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.JobHealthState;
import io.cosmichorizons.pipeline.lifecycle.Transitions;
import io.cosmichorizons.pipeline.state.SortedEntries;
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
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Watches every live job (keyed by job_id, from its statuses and its metrics samples) for the alerts that concern one
 * job:
 *
 * <ul>
 *   <li>STUCK_SUBMITTED: SUBMITTED and not QUEUED within {@code submit-timeout};
 *   <li>STUCK_QUEUED: QUEUED longer than the queue's {@code queue-sla};
 *   <li>STUCK_RUNNING: RUNNING past its requested walltime plus {@code walltime-grace};
 *   <li>MISSING_HEARTBEAT: RUNNING with no metrics sample for {@code heartbeat-missed} x {@code heartbeat-interval}.
 * </ul>
 *
 * A stuck alert resolves when the job moves on, a heartbeat alert with the next sample (or the job's end).
 *
 * <p>Everything is decided in event time, so a replay raises the same alerts. Deadlines are event-time timers. A job
 * that moved on after its deadline, but before the watermark reached the deadline, still gets its alert, opened and
 * resolved at once. Samples come from another topic than the statuses and may be read well before or after them, so
 * their times wait in state until the watermark passes them and then settle as heartbeats in event-time order; a job's
 * state is kept until the watermark passes its end, when its last gap is settled, and then cleared.
 *
 * <p>Idle input: the watermark stops while no records arrive, and event-time timers with it. Once the watermark has not
 * moved for {@code idle-timeout}, event time is extrapolated by the wall clock from where it stopped, and a
 * processing-time fallback timer per job raises the alerts whose deadlines that extrapolated time passes. An idle
 * stream never hides a stuck job. The stall is timed once per subtask by {@link JobHealthOperator}, which runs this
 * function, so that a moving watermark costs the jobs nothing.
 */
public class JobHealthMonitor extends KeyedCoProcessFunction<String, JobStatus, InputEnvelope, Alert>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final String SUBMIT_TIMEOUT = "submit-timeout";
    public static final String QUEUE_SLA = "queue-sla";
    public static final String WALLTIME_GRACE = "walltime-grace";
    public static final String HEARTBEAT_INTERVAL = "heartbeat-interval";
    public static final String HEARTBEAT_MISSED = "heartbeat-missed";
    /** The keyed state holding every job this subtask watches. */
    static final String STATE_NAME = "job-health";

    /** The knobs; defaults are documented in MetricsJobConfig. */
    public record Settings(Thresholds thresholds, Duration idleTimeout) implements Serializable {
        public Settings {
            if (idleTimeout.isNegative() || idleTimeout.isZero()) {
                throw new IllegalArgumentException("idle-timeout must be positive");
            }
        }
    }

    /** A deadline the job must meet in its current state. */
    record Watch(AlertType type, long episodeStart, long deadline, long thresholdMs) {}

    private final Settings settings;

    private transient ValueState<JobHealthState> state;
    /** Open alerts of this job, by alert type. */
    private transient MapState<String, Alert> openAlerts;
    private transient OpenAlertGauge gauge;
    /** The job of the current callback, for messages and alert ids. */
    private transient String jobId;
    /** This subtask's watermark against the wall clock, fed by {@link JobHealthOperator}. */
    private transient StallClock stall;

    /** Runs in {@link JobHealthOperator}, which times the input stalls. */
    JobHealthMonitor(Settings settings) {
        this.settings = settings;
    }

    long idleTimeoutMillis() {
        return settings.idleTimeout().toMillis();
    }

    void useStallClock(StallClock clock) {
        this.stall = clock;
    }

    StallClock stallClock() {
        return stall;
    }

    @Override
    public void open(OpenContext openContext) {
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>(STATE_NAME, new AvroTypeInfo<>(JobHealthState.class)));
        openAlerts = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("job-alerts", Types.STRING, new AvroTypeInfo<>(Alert.class)));
        gauge.register(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement1(JobStatus status, Context ctx, Collector<Alert> out) throws Exception {
        jobId = ctx.getCurrentKey();
        stall.recordRead(status.getLastEventAt().toEpochMilli());
        JobHealthState s = load();
        boolean ended = Transitions.isTerminal(status.getStatus());
        if (s == null) {
            if (ended && status.getEndedAt().toEpochMilli() <= ctx.timerService().currentWatermark()) {
                return; // the job is settled already; a late earlier step changes nothing here
            }
            s = JobHealthState.newBuilder().setPendingSamples(new ArrayList<>()).build();
        } else if (s.getEndedAt() != null) {
            // Ended, waiting for the watermark to pass the end. A late earlier step may still tell when it started.
            s.setStartedAt(millis(status.getStartedAt()));
            reschedule(s, ctx);
            state.update(s);
            return;
        }
        List<Watch> before = stuckWatches(s);
        s.setStatus(status.getStatus());
        s.setHpcSystem(status.getHpcSystem());
        s.setQueue(status.getQueue());
        s.setRequestedWalltimeMs(status.getRequestedWalltimeMs());
        s.setSubmittedAt(millis(status.getSubmittedAt()));
        s.setQueuedAt(millis(status.getQueuedAt()));
        s.setStartedAt(millis(status.getStartedAt()));
        s.setEndedAt(ended ? status.getEndedAt().toEpochMilli() : null);
        s.setLastEventAt(status.getLastEventAt().toEpochMilli());
        settleStuck(s, before, stuckWatches(s), s.getLastEventAt(), status.getStatus(), out);
        advance(s, ctx.timerService().currentWatermark(), false, out);
        if (!finishIfSettled(s, ctx, out)) {
            reschedule(s, ctx);
            state.update(s);
        }
    }

    @Override
    public void processElement2(InputEnvelope envelope, Context ctx, Collector<Alert> out) throws Exception {
        jobId = ctx.getCurrentKey();
        long sampledAt = ((JobMetricsEvent) envelope.getEvent()).getSampledAt().toEpochMilli();
        stall.recordRead(sampledAt);
        long watermark = ctx.timerService().currentWatermark();
        JobHealthState s = load();
        if (s == null) {
            if (sampledAt <= watermark) {
                return; // late, for a job that is settled or unknown
            }
            s = JobHealthState.newBuilder().setPendingSamples(new ArrayList<>()).build();
        }
        if (s.getLastSampleAt() != null && sampledAt <= s.getLastSampleAt()
                || s.getEndedAt() != null && sampledAt > s.getEndedAt()) {
            return;
        }
        SortedEntries.insertUnique(s.getPendingSamples(), sampledAt);
        advance(s, watermark, false, out);
        if (!finishIfSettled(s, ctx, out)) {
            reschedule(s, ctx);
            state.update(s);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        jobId = ctx.getCurrentKey();
        JobHealthState s = load();
        if (s == null) {
            return;
        }
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            if (timestamp == s.getStuckTimer()) {
                s.setStuckTimer(-1L);
            }
            if (timestamp == s.getHeartbeatTimer()) {
                s.setHeartbeatTimer(-1L);
            }
            if (timestamp == s.getEndTimer()) {
                s.setEndTimer(-1L);
            }
            long watermark = ctx.timerService().currentWatermark();
            advance(s, watermark, false, out);
            raiseDueStuck(s, watermark, false, out);
        } else {
            // The job's own fallback timer, or the operator asking every job to look at a new stall.
            if (timestamp == s.getFallbackTimer()) {
                s.setFallbackTimer(-1L);
            }
            long now = ctx.timerService().currentProcessingTime();
            if (stall.isStalled(now)) {
                long extrapolated = stall.extrapolate(latest(s), now);
                advance(s, extrapolated, true, out);
                raiseDueStuck(s, extrapolated, true, out);
            }
        }
        if (!finishIfSettled(s, ctx, out)) {
            reschedule(s, ctx);
            state.update(s);
        }
    }

    // ------------------------------------------------------------------------------------------ stuck jobs

    /** The stuck-job deadline of the job's current state, if any. */
    List<Watch> stuckWatches(JobHealthState s) {
        if (s.getStatus() == null || s.getEndedAt() != null) {
            return List.of();
        }
        Thresholds t = settings.thresholds();
        String system = s.getHpcSystem();
        String queue = s.getQueue();
        switch (s.getStatus()) {
            case SUBMITTED -> {
                if (s.getSubmittedAt() != null) {
                    long limit = t.millis(SUBMIT_TIMEOUT, system, queue);
                    return List.of(new Watch(AlertType.STUCK_SUBMITTED, s.getSubmittedAt(), s.getSubmittedAt() + limit, limit));
                }
            }
            case QUEUED -> {
                if (s.getQueuedAt() != null) {
                    long limit = t.millis(QUEUE_SLA, system, queue);
                    return List.of(new Watch(AlertType.STUCK_QUEUED, s.getQueuedAt(), s.getQueuedAt() + limit, limit));
                }
            }
            case RUNNING -> {
                if (s.getStartedAt() != null && s.getRequestedWalltimeMs() != null) {
                    // An "unlimited" walltime (a huge value) has no deadline; it must not overflow into one in the past.
                    long limit = StallClock.saturatedAdd(s.getRequestedWalltimeMs(), t.millis(WALLTIME_GRACE, system, queue));
                    long deadline = StallClock.saturatedAdd(s.getStartedAt(), limit);
                    if (deadline == Long.MAX_VALUE) {
                        return List.of();
                    }
                    return List.of(new Watch(AlertType.STUCK_RUNNING, s.getStartedAt(), deadline, limit));
                }
            }
            default -> {
                // nothing to watch
            }
        }
        return List.of();
    }

    /**
     * Closes the stuck watches that ended at {@code at}: resolves their open alerts, and raises (and at once resolves)
     * the alert of a deadline that passed before the job moved on but had not fired yet.
     */
    private void settleStuck(JobHealthState s, List<Watch> before, List<Watch> after, long at, LifecycleEventType now,
            Collector<Alert> out) throws Exception {
        for (Watch w : before) {
            if (after.contains(w)) {
                continue;
            }
            Alert open = openAlerts.get(w.type().name());
            if (open == null && at > w.deadline()) {
                open = raise(s, w, false, out);
            }
            if (open != null && open.getAlertId().equals(id(w))) {
                resolve(open, at, "Job " + jobId + " moved on to " + now + " after " + Alerts.minutes(at - w.episodeStart()),
                        at - w.episodeStart(), out);
            }
        }
    }

    private void raiseDueStuck(JobHealthState s, long now, boolean fallback, Collector<Alert> out) throws Exception {
        for (Watch w : stuckWatches(s)) {
            if (w.deadline() <= now && !isOpen(w)) {
                raise(s, w, fallback, out);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ heartbeats

    private long heartbeatLimit(JobHealthState s) {
        Thresholds t = settings.thresholds();
        return (long) (t.millis(HEARTBEAT_INTERVAL, s.getHpcSystem(), s.getQueue())
                * t.number(HEARTBEAT_MISSED, s.getHpcSystem(), s.getQueue()));
    }

    private long lastBeat(JobHealthState s) {
        return s.getLastSampleAt() == null ? s.getStartedAt() : Math.max(s.getStartedAt(), s.getLastSampleAt());
    }

    /** The heartbeat deadline, or null when the job is not (or no longer) running or its alert is open. */
    private Watch heartbeatWatch(JobHealthState s) throws Exception {
        if (s.getStartedAt() == null || s.getStatus() == null || openAlerts.contains(AlertType.MISSING_HEARTBEAT.name())) {
            return null;
        }
        long beat = lastBeat(s);
        long limit = heartbeatLimit(s);
        if (s.getEndedAt() != null && beat + limit >= s.getEndedAt()) {
            return null; // it ended before it went silent for too long
        }
        return new Watch(AlertType.MISSING_HEARTBEAT, beat, beat + limit, limit);
    }

    /**
     * Settles the samples up to event time {@code upTo} as heartbeats, in event-time order: a sample after an open
     * alert resolves it, a gap longer than the limit raises (and resolves) one; then raises the alert of the current
     * gap if {@code upTo} has passed its deadline. Samples of a job that is not running are dropped.
     */
    private void advance(JobHealthState s, long upTo, boolean fallback, Collector<Alert> out) throws Exception {
        List<Long> pending = s.getPendingSamples();
        if (s.getStartedAt() == null) {
            pending.removeIf(t -> t <= upTo);
            return;
        }
        long limit = heartbeatLimit(s);
        while (!pending.isEmpty() && pending.get(0) <= upTo) {
            long sample = pending.remove(0);
            long beat = lastBeat(s);
            if (sample <= beat) {
                continue;
            }
            Alert open = openAlerts.get(AlertType.MISSING_HEARTBEAT.name());
            if (open == null && sample - beat > limit) {
                open = raise(s, new Watch(AlertType.MISSING_HEARTBEAT, beat, beat + limit, limit), false, out);
            }
            if (open != null) {
                resolve(open, sample, "Job " + jobId + " sent a metrics sample again after "
                        + Alerts.minutes(sample - beat), sample - beat, out);
            }
            s.setLastSampleAt(sample);
        }
        Watch w = heartbeatWatch(s);
        if (w != null && w.deadline() <= upTo) {
            raise(s, w, fallback, out);
        }
    }

    /**
     * Once the watermark has passed the job's end, every on-time sample is in: settle the last gap, resolve what is
     * open, and clear the state. Also clears a state that holds nothing but dropped samples.
     */
    private boolean finishIfSettled(JobHealthState s, Context ctx, Collector<Alert> out) throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        boolean ended = s.getEndedAt() != null && watermark >= s.getEndedAt();
        boolean empty = s.getStatus() == null && s.getPendingSamples().isEmpty();
        if (!ended && !empty) {
            return false;
        }
        if (ended) {
            advance(s, s.getEndedAt(), false, out);
            Alert heartbeat = openAlerts.get(AlertType.MISSING_HEARTBEAT.name());
            if (heartbeat == null && s.getStartedAt() != null && s.getEndedAt() - lastBeat(s) > heartbeatLimit(s)) {
                long beat = lastBeat(s);
                heartbeat = raise(s, new Watch(AlertType.MISSING_HEARTBEAT, beat, beat + heartbeatLimit(s), heartbeatLimit(s)), false, out);
            }
            if (heartbeat != null) {
                resolve(heartbeat, s.getEndedAt(), "Job " + jobId + " ended (" + s.getStatus() + ") "
                        + Alerts.minutes(s.getEndedAt() - lastBeat(s)) + " after its last heartbeat",
                        s.getEndedAt() - lastBeat(s), out);
            }
        }
        clear(s, ctx);
        return true;
    }

    // ------------------------------------------------------------------------------------------ alerts

    private String id(Watch w) {
        return Alerts.alertId(w.type(), jobId, w.episodeStart());
    }

    private boolean isOpen(Watch w) throws Exception {
        Alert open = openAlerts.get(w.type().name());
        return open != null && open.getAlertId().equals(id(w));
    }

    private Alert raise(JobHealthState s, Watch w, boolean fallback, Collector<Alert> out) throws Exception {
        String where = (s.getHpcSystem() == null ? "?" : s.getHpcSystem()) + "/" + (s.getQueue() == null ? "?" : s.getQueue());
        String message = switch (w.type()) {
            case STUCK_SUBMITTED -> "Job " + jobId + " on " + where + " has not been queued "
                    + Alerts.minutes(w.thresholdMs()) + " after its submission";
            case STUCK_QUEUED -> "Job " + jobId + " has been queued on " + where + " for longer than the queue's SLA of "
                    + Alerts.minutes(w.thresholdMs());
            case STUCK_RUNNING -> "Job " + jobId + " on " + where + " is still running past its requested walltime plus grace ("
                    + Alerts.minutes(w.thresholdMs()) + ")";
            case MISSING_HEARTBEAT -> "Running job " + jobId + " on " + where + " has sent no metrics sample for "
                    + Alerts.minutes(w.thresholdMs());
            default -> throw new IllegalStateException(w.type().name());
        };
        if (fallback) {
            message += " (raised while the input was idle, by the processing-time fallback)";
        }
        Alert alert = Alerts.open(w.type(), jobId, s.getHpcSystem(), w.episodeStart(), w.deadline(), message,
                (double) w.thresholdMs(), (double) w.thresholdMs());
        openAlerts.put(w.type().name(), alert);
        emit(alert, out);
        return alert;
    }

    private void resolve(Alert open, long at, String message, long value, Collector<Alert> out) throws Exception {
        emit(Alerts.resolve(open, at, message, (double) value), out);
        openAlerts.remove(open.getAlertType().name());
    }

    private void emit(Alert alert, Collector<Alert> out) {
        gauge.track(alert);
        out.collect(alert);
    }

    // ------------------------------------------------------------------------------------------ timers

    /** Sets the event-time timers of the pending deadlines and the processing-time fallback for the earliest one. */
    private void reschedule(JobHealthState s, Context ctx) throws Exception {
        long stuck = -1;
        long earliest = Long.MAX_VALUE;
        for (Watch w : stuckWatches(s)) {
            if (!isOpen(w)) {
                stuck = w.deadline();
                earliest = Math.min(earliest, w.deadline());
            }
        }
        long heartbeat = -1;
        Watch hb = heartbeatWatch(s);
        if (hb != null) {
            heartbeat = hb.deadline();
            if (s.getEndedAt() == null) {
                earliest = Math.min(earliest, hb.deadline());
            }
        } else if (!s.getPendingSamples().isEmpty()) {
            heartbeat = s.getPendingSamples().get(0); // to settle it (and resolve an open alert) when the watermark passes
        }
        long end = s.getEndedAt() == null ? -1 : s.getEndedAt();
        setEventTimers(ctx, s, stuck, heartbeat, end);

        // Only while the watermark stands still: then fire when the extrapolated event time reaches the deadline. A
        // stall that begins later reaches every job through the operator's check.
        long fallback = -1;
        long now = ctx.timerService().currentProcessingTime();
        if (earliest != Long.MAX_VALUE && stall.isStalled(now)) {
            long reached = stall.reaches(earliest, latest(s));
            // Long.MAX_VALUE: the extrapolation never gets there, so no timer.
            fallback = reached == Long.MAX_VALUE ? -1 : Math.max(now + 1, reached);
        }
        if (fallback != s.getFallbackTimer()) {
            if (s.getFallbackTimer() >= 0) {
                ctx.timerService().deleteProcessingTimeTimer(s.getFallbackTimer());
            }
            if (fallback >= 0) {
                ctx.timerService().registerProcessingTimeTimer(fallback);
            }
            s.setFallbackTimer(fallback);
        }
    }

    /**
     * Moves the event-time timers. They may share a timestamp (Flink keeps one timer per key and time), so a timer is
     * deleted only when no deadline needs it any more.
     */
    private static void setEventTimers(Context ctx, JobHealthState s, long stuck, long heartbeat, long end) {
        long[] old = {s.getStuckTimer(), s.getHeartbeatTimer(), s.getEndTimer()};
        long[] wanted = {stuck, heartbeat, end};
        for (long t : old) {
            if (t >= 0 && !contains(wanted, t)) {
                ctx.timerService().deleteEventTimeTimer(t);
            }
        }
        for (long t : wanted) {
            if (t >= 0 && !contains(old, t)) {
                ctx.timerService().registerEventTimeTimer(t);
            }
        }
        s.setStuckTimer(stuck);
        s.setHeartbeatTimer(heartbeat);
        s.setEndTimer(end);
    }

    private static boolean contains(long[] values, long v) {
        for (long x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private void clear(JobHealthState s, Context ctx) {
        setEventTimers(ctx, s, -1, -1, -1);
        if (s.getFallbackTimer() >= 0) {
            ctx.timerService().deleteProcessingTimeTimer(s.getFallbackTimer());
        }
        state.clear();
        openAlerts.clear();
    }

    /** The job's newest event time: its latest status change or settled sample. */
    private static long latest(JobHealthState s) {
        return s.getLastSampleAt() == null ? s.getLastEventAt() : Math.max(s.getLastEventAt(), s.getLastSampleAt());
    }

    private JobHealthState load() throws Exception {
        JobHealthState s = state.value();
        if (s != null) {
            s.setPendingSamples(new ArrayList<>(s.getPendingSamples()));
        }
        return s;
    }

    private static Long millis(Instant instant) {
        return instant == null ? null : instant.toEpochMilli();
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
