package io.cosmichorizons.pipeline.health;

/**
 * One subtask's view of its watermark against the wall clock: when the watermark last moved, and the event time it
 * had reached then. While the watermark stands still, event time is extrapolated from there by the wall clock.
 *
 * <p>Kept per subtask rather than per job, so that a moving watermark costs nothing per job; see
 * {@link JobHealthOperator}. Not checkpointed: after a restore the stall is timed again from the start, as the
 * watermark itself starts over.
 */
final class StallClock {
    private final long idleTimeout;
    private long watermark = Long.MIN_VALUE;
    /** Processing time when the watermark last moved (or the clock started). */
    private long movedAt;
    /** Event time reached when the watermark last moved: the watermark, or a newer record time already read. */
    private long reference = Long.MIN_VALUE;
    /**
     * The newest event time read. When every input partition has gone idle, the watermark stays at the smallest of
     * their last event times, which may lag far behind; everything up to this time has arrived.
     */
    private long newestSeen = Long.MIN_VALUE;
    /** Whether every job has been asked to look at the current stall. */
    private boolean armed;

    StallClock(long idleTimeout, long now) {
        this.idleTimeout = idleTimeout;
        this.movedAt = now;
    }

    void recordRead(long eventTime) {
        newestSeen = Math.max(newestSeen, eventTime);
    }

    void watermarkArrived(long newWatermark, long now) {
        if (newWatermark != watermark) {
            watermark = newWatermark;
            movedAt = now;
            reference = Math.max(newWatermark, newestSeen);
            armed = false;
        }
    }

    /** True once the watermark has stood still for the idle timeout. */
    boolean isStalled(long now) {
        return now - movedAt >= idleTimeout;
    }

    /** When a watermark that stops moving now would count as stalled. */
    long stalledAt() {
        return movedAt + idleTimeout;
    }

    /** Marks the current stall as handed to every job; true the first time only. */
    boolean arm() {
        boolean first = !armed;
        armed = true;
        return first;
    }

    /** Event time now, extrapolated from when the watermark stopped; a job's own latest time counts too. */
    long extrapolate(long jobLatest, long now) {
        return saturatedAdd(Math.max(reference, jobLatest), now - movedAt);
    }

    /** The processing time at which the extrapolated event time reaches {@code deadline}, never before the stall. */
    long reaches(long deadline, long jobLatest) {
        long from = Math.max(reference, jobLatest);
        long distance = from == Long.MIN_VALUE ? Long.MAX_VALUE : Math.max(idleTimeout, deadline - from);
        return saturatedAdd(movedAt, distance);
    }

    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : sum;
    }
}
