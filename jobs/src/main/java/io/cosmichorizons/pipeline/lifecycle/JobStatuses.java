package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.SubmittedDetails;
import java.time.Instant;

/** Pure functions from (status, event) to the next status. Only event content goes in, never the wall clock. */
public final class JobStatuses {
    private JobStatuses() {}

    /** The status after SUBMITTED. */
    public static JobStatus submitted(JobLifecycleEvent e) {
        SubmittedDetails d = (SubmittedDetails) e.getDetails();
        return JobStatus.newBuilder()
                .setJobId(e.getJobId())
                .setStatus(LifecycleEventType.SUBMITTED)
                .setVersion(1)
                .setUserId(e.getUserId())
                .setCorrelationId(e.getCorrelationId())
                .setHpcSystem(d.getHpcSystem())
                .setQueue(d.getQueue())
                .setPipeline(d.getPipeline())
                .setRequestedCores(d.getRequestedCores())
                .setRequestedWalltimeMs(d.getRequestedWalltimeMs())
                .setSubmittedAt(e.getOccurredAt())
                .setLastEventId(e.getEventId())
                .setLastEventAt(e.getOccurredAt())
                .build();
    }

    /**
     * Applies a valid next step (or, with {@code backfill}, a late earlier step of an ended job, which fills in its
     * timestamps but keeps the status and the last event).
     */
    public static JobStatus apply(JobStatus current, JobLifecycleEvent e, boolean backfill) {
        JobStatus next = JobStatus.newBuilder(current).build();
        next.setVersion(current.getVersion() + 1);
        Instant at = e.getOccurredAt();
        switch (e.getEventType()) {
            case QUEUED -> {
                next.setQueuedAt(at);
                next.setHpcJobId(((QueuedDetails) e.getDetails()).getHpcJobId());
            }
            case RUNNING -> next.setStartedAt(at);
            case COMPLETED -> {
                CompletedDetails d = (CompletedDetails) e.getDetails();
                next.setEndedAt(at);
                next.setExitCode(d.getExitCode());
            }
            case FAILED -> {
                FailedDetails d = (FailedDetails) e.getDetails();
                next.setEndedAt(at);
                next.setExitCode(d.getExitCode());
                next.setErrorCode(d.getErrorCode());
                next.setErrorMessage(d.getErrorMessage());
            }
            case CANCELLED -> {
                CancelledDetails d = (CancelledDetails) e.getDetails();
                next.setEndedAt(at);
                next.setErrorMessage("Cancelled by " + d.getCancelledBy() + ": " + d.getReason());
            }
            case SUBMITTED -> throw new IllegalArgumentException("SUBMITTED starts a job; it is not applied to one");
        }
        if (!backfill) {
            next.setStatus(e.getEventType());
            next.setLastEventId(e.getEventId());
            next.setLastEventAt(at);
        }
        deriveDurations(next);
        return next;
    }

    /** queue_wait = started - queued (or ended - queued when it never ran); run = ended - started. */
    static void deriveDurations(JobStatus s) {
        Instant queued = s.getQueuedAt();
        Instant started = s.getStartedAt();
        Instant ended = s.getEndedAt();
        Long queueWait = null;
        if (queued != null && started != null) {
            queueWait = started.toEpochMilli() - queued.toEpochMilli();
        } else if (queued != null && ended != null) {
            queueWait = ended.toEpochMilli() - queued.toEpochMilli();
        }
        s.setQueueWaitMs(queueWait);
        s.setRunMs(started != null && ended != null ? ended.toEpochMilli() - started.toEpochMilli() : null);
    }
}
