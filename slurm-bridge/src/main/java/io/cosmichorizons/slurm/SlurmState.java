package io.cosmichorizons.slurm;

import io.cosmichorizons.events.LifecycleEventType;
import java.util.List;
import java.util.Locale;

/**
 * Slurm's job states (base states and the state flags that {@code squeue} reports in their place) and what each one
 * means for the job's lifecycle. The mapping is documented in the README, section "Slurm bridge".
 */
public enum SlurmState {
    PENDING(Phase.QUEUED, null),
    /** Requeued (preempted with PreemptMode=REQUEUE, node failure with --requeue, scontrol requeue): waits again. */
    REQUEUED(Phase.QUEUED, null),
    REQUEUE_HOLD(Phase.QUEUED, null),
    REQUEUE_FED(Phase.QUEUED, null),
    SPECIAL_EXIT(Phase.QUEUED, null),
    RESV_DEL_HOLD(Phase.QUEUED, null),
    CONFIGURING(Phase.RUNNING, null),
    RUNNING(Phase.RUNNING, null),
    RESIZING(Phase.RUNNING, null),
    SIGNALING(Phase.RUNNING, null),
    STAGE_OUT(Phase.RUNNING, null),
    POWER_UP_NODE(Phase.RUNNING, null),
    /** Suspended or stopped jobs keep their allocation: they stay RUNNING, no event. */
    SUSPENDED(Phase.RUNNING, null),
    STOPPED(Phase.RUNNING, null),
    /** The job ended, but its final state is known only once the epilogs finished: nothing is published yet. */
    COMPLETING(Phase.ENDING, null),
    COMPLETED(Phase.ENDED, LifecycleEventType.COMPLETED),
    FAILED(Phase.ENDED, LifecycleEventType.FAILED),
    NODE_FAIL(Phase.ENDED, LifecycleEventType.FAILED),
    OUT_OF_MEMORY(Phase.ENDED, LifecycleEventType.FAILED),
    BOOT_FAIL(Phase.ENDED, LifecycleEventType.FAILED),
    DEADLINE(Phase.ENDED, LifecycleEventType.FAILED),
    TIMEOUT(Phase.ENDED, LifecycleEventType.FAILED),
    /** Preempted and not requeued (PreemptMode=CANCEL): a failure worth retrying. */
    PREEMPTED(Phase.ENDED, LifecycleEventType.FAILED),
    CANCELLED(Phase.ENDED, LifecycleEventType.CANCELLED),
    /** A federated sibling ran the job instead: this copy is withdrawn. */
    REVOKED(Phase.ENDED, LifecycleEventType.CANCELLED),
    /** A state this bridge does not know (a newer Slurm): ignored until the job reaches a known one. */
    UNKNOWN(Phase.UNKNOWN, null);

    /** Where in our lifecycle a Slurm state puts a job. */
    public enum Phase {
        /** Waiting to run: SUBMITTED, QUEUED. */
        QUEUED,
        /** Has an allocation: SUBMITTED, QUEUED, RUNNING. */
        RUNNING,
        /** Ended, final state not yet settled: as far as RUNNING when the job ran, else QUEUED. */
        ENDING,
        /** Ended for good: the terminal event. */
        ENDED,
        UNKNOWN
    }

    /**
     * When a state list carries several names (newer Slurm reports {@code ["COMPLETED","COMPLETING"]}), the one that
     * decides, as Slurm's own job_state_string() picks it: flags before the base state.
     */
    private static final List<SlurmState> FLAG_PRECEDENCE = List.of(COMPLETING, STAGE_OUT, CONFIGURING, RESIZING,
            REQUEUED, REQUEUE_FED, REQUEUE_HOLD, SPECIAL_EXIT, STOPPED, REVOKED, RESV_DEL_HOLD, SIGNALING, POWER_UP_NODE);

    private final Phase phase;
    private final LifecycleEventType terminal;

    SlurmState(Phase phase, LifecycleEventType terminal) {
        this.phase = phase;
        this.terminal = terminal;
    }

    public Phase phase() {
        return phase;
    }

    /** The terminal lifecycle event of an ended job, or null for states that are not final. */
    public LifecycleEventType terminalType() {
        return terminal;
    }

    /** Whether a job in this state is known to have held an allocation (so it ran). */
    public boolean impliesRan() {
        return phase == Phase.RUNNING || this == COMPLETED || this == OUT_OF_MEMORY || this == TIMEOUT;
    }

    /** Parses one of Slurm's state names (case-insensitive, short forms such as CD or PD are not accepted). */
    public static SlurmState parse(String name) {
        if (name == null || name.isBlank()) {
            return UNKNOWN;
        }
        String n = name.strip().toUpperCase(Locale.ROOT);
        // sacct prints "CANCELLED by 1000"; squeue and scontrol print the plain name.
        int space = n.indexOf(' ');
        if (space > 0) {
            n = n.substring(0, space);
        }
        if (n.equals("CANCELED")) {
            n = "CANCELLED";
        }
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            return UNKNOWN;
        }
    }

    /** The deciding state among several names reported together (flags before the base state). */
    public static SlurmState parse(List<String> names) {
        SlurmState base = UNKNOWN;
        SlurmState flag = null;
        for (String name : names) {
            SlurmState s = parse(name);
            if (FLAG_PRECEDENCE.contains(s)) {
                if (flag == null || FLAG_PRECEDENCE.indexOf(s) < FLAG_PRECEDENCE.indexOf(flag)) {
                    flag = s;
                }
            } else if (s != UNKNOWN && base == UNKNOWN) {
                base = s;
            }
        }
        return flag != null ? flag : base;
    }
}
