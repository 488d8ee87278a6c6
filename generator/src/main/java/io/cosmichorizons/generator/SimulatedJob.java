package io.cosmichorizons.generator;

import java.util.List;

/**
 * One job's events in event-time order: its scripted lifecycle and audit events, merged with its metrics samples as
 * they fall due.
 */
final class SimulatedJob {
    final int index;
    final GroundTruth.Job truth;
    private final List<TimelineEvent> scripted;
    private final MetricsSeries metrics;
    private int cursor;

    /** @param metrics the samples, or null when the job never ran */
    SimulatedJob(int index, GroundTruth.Job truth, List<TimelineEvent> scripted, MetricsSeries metrics) {
        this.index = index;
        this.truth = truth;
        this.scripted = scripted;
        this.metrics = metrics;
    }

    boolean hasNext() {
        return cursor < scripted.size() || (metrics != null && metrics.hasNext());
    }

    long nextTime() {
        return metricsFirst() ? metrics.nextTime() : scripted.get(cursor).time();
    }

    TimelineEvent next() {
        return metricsFirst() ? metrics.next() : scripted.get(cursor++);
    }

    /** On equal times the scripted event goes first, so a sample never precedes the step at the same instant. */
    private boolean metricsFirst() {
        if (metrics == null || !metrics.hasNext()) {
            return false;
        }
        return cursor >= scripted.size() || metrics.nextTime() < scripted.get(cursor).time();
    }
}
