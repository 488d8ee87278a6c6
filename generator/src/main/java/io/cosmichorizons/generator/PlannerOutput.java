package io.cosmichorizons.generator;

import io.cosmichorizons.publisher.EventRecords;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** The end of the planning pipeline: hands records on in order and keeps the counts for the ground truth. */
final class PlannerOutput {
    private final Consumer<? super PlannedRecord> records;
    private final GroundTruthSink truth;
    private final Map<String, Long> recordsPerTopic = new TreeMap<>();
    private final Map<String, Long> validEventsPerType = new TreeMap<>();
    private final Map<InjectionKind, Long> injectedPerKind = new EnumMap<>(InjectionKind.class);
    private long count;
    private long earliestTimestamp = Long.MAX_VALUE;
    private long latestTimestamp = Long.MIN_VALUE;

    PlannerOutput(Consumer<? super PlannedRecord> records, GroundTruthSink truth) {
        this.records = records;
        this.truth = truth;
    }

    /** Emits a record; valid events count towards their type, injected ones were counted by {@link #injected}. */
    void emit(PlannedRecord record) {
        records.accept(record);
        count++;
        recordsPerTopic.merge(record.topic(), 1L, Long::sum);
        earliestTimestamp = Math.min(earliestTimestamp, record.timestamp());
        latestTimestamp = Math.max(latestTimestamp, record.timestamp());
        if (record instanceof PlannedRecord.ValidEvent valid) {
            validEventsPerType.merge(EventRecords.eventTypeOf(valid.event()), 1L, Long::sum);
        }
    }

    /** Records an injection in the ground truth; the record itself still goes through {@link #emit}. */
    void injected(GroundTruth.Injected injected) {
        injectedPerKind.merge(injected.kind(), 1L, Long::sum);
        truth.injected(injected);
    }

    /** Records emitted so far. */
    long records() {
        return count;
    }

    GroundTruth.Totals totals() {
        return new GroundTruth.Totals(count, recordsPerTopic, validEventsPerType, injectedPerKind,
                count == 0 ? 0 : earliestTimestamp, count == 0 ? 0 : latestTimestamp);
    }
}
