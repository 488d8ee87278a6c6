package io.cosmichorizons.generator;

/**
 * A valid event on the merged timeline, with what the injector needs to know about it.
 *
 * @param time the event time (the record timestamp)
 * @param lifecycle whether it is a lifecycle event (the only kind that gets duplicated, reordered or corrupted)
 * @param successorGapMs event-time distance to the job's next lifecycle event, or -1 when there is none
 */
record TimelineEvent(long time, PlannedRecord.ValidEvent record, String jobId, boolean lifecycle, long successorGapMs) {}
