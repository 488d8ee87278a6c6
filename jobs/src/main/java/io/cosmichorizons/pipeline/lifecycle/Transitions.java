package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import java.time.Instant;

/**
 * The lifecycle rules. Valid: SUBMITTED -> QUEUED -> RUNNING -> COMPLETED | FAILED | CANCELLED; CANCELLED from any
 * non-terminal state; FAILED also from QUEUED (the scheduler rejected the job).
 */
public final class Transitions {

    /** What to do with an event, given the job's current status. */
    public enum Decision {
        /** The event is the next valid step: apply it. */
        APPLY,
        /** A predecessor has not arrived yet: hold the event until the gap fills or times out. */
        BUFFER,
        /**
         * The job already ended, and this is an earlier step that arrived late (it happened before the end and its
         * step is still missing): record its timestamps without changing the status.
         */
        BACKFILL,
        /** Impossible: dead-letter it. */
        INVALID
    }

    private Transitions() {}

    public static boolean isTerminal(LifecycleEventType type) {
        return type == LifecycleEventType.COMPLETED || type == LifecycleEventType.FAILED
                || type == LifecycleEventType.CANCELLED;
    }

    public static Decision decide(JobStatus current, LifecycleEventType next, Instant occurredAt) {
        if (current == null) {
            return next == LifecycleEventType.SUBMITTED ? Decision.APPLY : Decision.BUFFER;
        }
        LifecycleEventType now = current.getStatus();
        switch (now) {
            case SUBMITTED:
                return switch (next) {
                    case QUEUED, CANCELLED -> Decision.APPLY;
                    case RUNNING, COMPLETED, FAILED -> Decision.BUFFER; // QUEUED (and RUNNING) still missing
                    case SUBMITTED -> Decision.INVALID;
                };
            case QUEUED:
                return switch (next) {
                    case RUNNING, FAILED, CANCELLED -> Decision.APPLY;
                    case COMPLETED -> Decision.BUFFER; // RUNNING still missing
                    case SUBMITTED, QUEUED -> Decision.INVALID;
                };
            case RUNNING:
                return isTerminal(next) ? Decision.APPLY : Decision.INVALID;
            default:
                return canBackfill(current, next, occurredAt) ? Decision.BACKFILL : Decision.INVALID;
        }
    }

    private static boolean canBackfill(JobStatus ended, LifecycleEventType next, Instant occurredAt) {
        boolean missing = (next == LifecycleEventType.QUEUED && ended.getQueuedAt() == null)
                || (next == LifecycleEventType.RUNNING && ended.getStartedAt() == null);
        return missing && ended.getEndedAt() != null && !occurredAt.isAfter(ended.getEndedAt());
    }

    /** Explains why {@code next} cannot follow the current status, for the dead letter's message. */
    public static String explainInvalid(JobStatus current, LifecycleEventType next) {
        if (current == null) {
            return next + " before SUBMITTED";
        }
        if (isTerminal(current.getStatus())) {
            return next + " after the terminal state " + current.getStatus() + " (job ended at " + current.getEndedAt() + ")";
        }
        return current.getStatus() + " -> " + next + " is not a valid transition";
    }
}
