package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.LifecycleState;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.serde.DeadLetters;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
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
import org.apache.flink.util.OutputTag;

/**
 * One state machine per job_id. Emits the job's status after every applied event, one notification when it ends, and
 * a dead letter for every duplicate, impossible transition, or event whose predecessor never arrived.
 *
 * <p>Timers: an event-time "gap" timer dead-letters buffered events whose predecessor has not arrived within the
 * reorder timeout (event time, so the outcome does not depend on how fast a replay runs); a processing-time cleanup
 * timer clears the job's state a while after it ended, or after it has been idle for very long.
 */
public class LifecycleStateMachine extends KeyedProcessFunction<String, InputEnvelope, JobStatus>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final String STAGE = "lifecycle-state-machine";
    public static final OutputTag<Notification> NOTIFICATIONS =
            new OutputTag<>("notifications", new AvroTypeInfo<>(Notification.class));

    /** The knobs, with their defaults documented in {@link LifecycleJobConfig}. */
    public record Settings(Duration reorderTimeout, int reorderBufferMax, Duration terminalStateTtl, Duration idleJobTtl)
            implements Serializable {}

    private final Settings settings;

    private transient ValueState<LifecycleState> state;
    private transient Counter duplicates;
    private transient Counter outOfOrderBuffered;
    private transient Counter backfilled;
    private transient Counter notificationsEmitted;
    private transient ListState<Long> jobsInStateCheckpoint;
    /** Jobs with state on this subtask; kept in operator state so the gauge survives restores. */
    private transient long jobsInState;

    public LifecycleStateMachine(Settings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>("lifecycle", new AvroTypeInfo<>(LifecycleState.class)));
        var metrics = getRuntimeContext().getMetricGroup();
        duplicates = metrics.counter("duplicatesDropped");
        outOfOrderBuffered = metrics.counter("outOfOrderBuffered");
        backfilled = metrics.counter("lateStepsBackfilled");
        notificationsEmitted = metrics.counter("notificationsEmitted");
        metrics.gauge("jobsInState", () -> jobsInState);
    }

    @Override
    public void processElement(InputEnvelope envelope, Context ctx, Collector<JobStatus> out) throws Exception {
        JobLifecycleEvent event = (JobLifecycleEvent) envelope.getEvent();
        LifecycleState s = load();
        if (s == null) {
            s = LifecycleState.newBuilder().setSeenEventIds(new ArrayList<>()).setBuffered(new ArrayList<>()).build();
            jobsInState++;
        }
        if (s.getSeenEventIds().contains(event.getEventId())) {
            duplicates.inc();
            deadLetter(ctx, envelope, DeadLetterReason.DUPLICATE_EVENT, "Event " + event.getEventId() + " ("
                    + event.getEventType() + ") was already received for job " + event.getJobId() + "; dropped");
            state.update(s);
            return;
        }
        s.getSeenEventIds().add(event.getEventId());

        boolean changed = offer(s, envelope, ctx, out);
        if (changed) {
            drainBuffer(s, ctx, out);
        }
        scheduleGapTimer(s, ctx);
        if (changed || s.getCleanupTimer() < 0) {
            scheduleCleanup(s, ctx);
        }
        state.update(s);
    }

    /**
     * Reads the state with mutable lists: after a restore (or from RocksDB) Avro hands back its own array type, whose
     * remove() is unsupported.
     */
    private LifecycleState load() throws java.io.IOException {
        LifecycleState s = state.value();
        if (s != null) {
            s.setSeenEventIds(new ArrayList<>(s.getSeenEventIds()));
            s.setBuffered(new ArrayList<>(s.getBuffered()));
        }
        return s;
    }

    /** Applies, buffers, backfills or rejects one event. Returns whether the status changed. */
    private boolean offer(LifecycleState s, InputEnvelope envelope, Context ctx, Collector<JobStatus> out) {
        JobLifecycleEvent event = (JobLifecycleEvent) envelope.getEvent();
        JobStatus current = s.getStatus();
        switch (Transitions.decide(current, event.getEventType(), event.getOccurredAt())) {
            case APPLY -> {
                JobStatus next = current == null ? JobStatuses.submitted(event) : JobStatuses.apply(current, event, false);
                s.setStatus(next);
                out.collect(JobStatus.newBuilder(next).build());
                if (Transitions.isTerminal(event.getEventType())) {
                    notificationsEmitted.inc();
                    ctx.output(NOTIFICATIONS, Notifications.forJobEnd(next, event));
                }
                return true;
            }
            case BACKFILL -> {
                backfilled.inc();
                JobStatus next = JobStatuses.apply(current, event, true);
                s.setStatus(next);
                out.collect(JobStatus.newBuilder(next).build());
                return true;
            }
            case BUFFER -> {
                if (s.getBuffered().size() >= settings.reorderBufferMax()) {
                    s.getSeenEventIds().remove(event.getEventId());
                    deadLetter(ctx, envelope, DeadLetterReason.OUT_OF_ORDER_OVERFLOW, "Job " + event.getJobId()
                            + " already holds " + settings.reorderBufferMax() + " events waiting for a predecessor of "
                            + event.getEventType());
                } else {
                    outOfOrderBuffered.inc();
                    s.getBuffered().add(envelope);
                }
                return false;
            }
            default -> {
                s.getSeenEventIds().remove(event.getEventId());
                deadLetter(ctx, envelope, DeadLetterReason.INVALID_TRANSITION,
                        "Job " + event.getJobId() + ": " + Transitions.explainInvalid(current, event.getEventType()));
                return false;
            }
        }
    }

    /** Applies buffered events that have become valid, in event-time order, until none applies. */
    private void drainBuffer(LifecycleState s, Context ctx, Collector<JobStatus> out) {
        boolean progress = true;
        while (progress && !s.getBuffered().isEmpty()) {
            progress = false;
            List<InputEnvelope> waiting = new ArrayList<>(s.getBuffered());
            waiting.sort(Comparator.comparing(e -> ((JobLifecycleEvent) e.getEvent()).getOccurredAt()));
            for (InputEnvelope candidate : waiting) {
                JobLifecycleEvent e = (JobLifecycleEvent) candidate.getEvent();
                if (Transitions.decide(s.getStatus(), e.getEventType(), e.getOccurredAt()) != Transitions.Decision.BUFFER) {
                    s.getBuffered().remove(candidate);
                    offer(s, candidate, ctx, out);
                    progress = true;
                    break;
                }
            }
        }
    }

    private void scheduleGapTimer(LifecycleState s, Context ctx) {
        long wanted = -1;
        if (!s.getBuffered().isEmpty()) {
            long earliest = s.getBuffered().stream()
                    .mapToLong(e -> ((JobLifecycleEvent) e.getEvent()).getOccurredAt().toEpochMilli()).min().getAsLong();
            wanted = earliest + settings.reorderTimeout().toMillis();
        }
        if (wanted != s.getGapTimer()) {
            if (s.getGapTimer() >= 0) {
                ctx.timerService().deleteEventTimeTimer(s.getGapTimer());
            }
            if (wanted >= 0) {
                ctx.timerService().registerEventTimeTimer(wanted);
            }
            s.setGapTimer(wanted);
        }
    }

    private void scheduleCleanup(LifecycleState s, Context ctx) {
        boolean ended = s.getStatus() != null && Transitions.isTerminal(s.getStatus().getStatus());
        long ttl = (ended ? settings.terminalStateTtl() : settings.idleJobTtl()).toMillis();
        long wanted = ctx.timerService().currentProcessingTime() + ttl;
        if (s.getCleanupTimer() >= 0) {
            ctx.timerService().deleteProcessingTimeTimer(s.getCleanupTimer());
        }
        ctx.timerService().registerProcessingTimeTimer(wanted);
        s.setCleanupTimer(wanted);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<JobStatus> out) throws Exception {
        LifecycleState s = load();
        if (s == null) {
            return;
        }
        boolean gapTimer = ctx.timeDomain() == org.apache.flink.streaming.api.TimeDomain.EVENT_TIME;
        if (gapTimer && timestamp == s.getGapTimer()) {
            s.setGapTimer(-1L);
            expireBuffered(s, ctx, "it never arrived within the reorder timeout of " + settings.reorderTimeout());
            if (s.getStatus() == null) {
                clear(s, ctx);
                return;
            }
            state.update(s);
        } else if (!gapTimer && timestamp == s.getCleanupTimer()) {
            expireBuffered(s, ctx, "the job's state expired first");
            clear(s, ctx);
        }
    }

    private void expireBuffered(LifecycleState s, Context ctx, String why) {
        for (InputEnvelope waiting : s.getBuffered()) {
            JobLifecycleEvent e = (JobLifecycleEvent) waiting.getEvent();
            s.getSeenEventIds().remove(e.getEventId());
            String have = s.getStatus() == null ? "nothing (no SUBMITTED)" : String.valueOf(s.getStatus().getStatus());
            deadLetter(ctx, waiting, DeadLetterReason.OUT_OF_ORDER_TIMEOUT, "Job " + e.getJobId() + ": " + e.getEventType()
                    + " waited for its predecessor after " + have + ", but " + why);
        }
        s.getBuffered().clear();
    }

    private void clear(LifecycleState s, Context ctx) {
        if (s.getGapTimer() >= 0) {
            ctx.timerService().deleteEventTimeTimer(s.getGapTimer());
        }
        if (s.getCleanupTimer() >= 0) {
            ctx.timerService().deleteProcessingTimeTimer(s.getCleanupTimer());
        }
        state.clear();
        jobsInState = Math.max(0, jobsInState - 1);
    }

    private static void deadLetter(Context ctx, InputEnvelope envelope, DeadLetterReason reason, String message) {
        DeadLetter dl = DeadLetters.of(reason, message, STAGE, envelope.getSource(),
                (org.apache.avro.specific.SpecificRecord) envelope.getEvent());
        ctx.output(DeadLetterRouting.DEAD_LETTERS, dl);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        jobsInStateCheckpoint.update(List.of(jobsInState));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        jobsInStateCheckpoint = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("jobs-in-state", Types.LONG));
        jobsInState = 0;
        for (Long n : jobsInStateCheckpoint.get()) {
            jobsInState += n;
        }
    }
}
