package io.cosmichorizons.generator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.JsonCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sits between the merged timeline and the output and injects what the pipeline must cope with: late duplicates,
 * swapped pairs of lifecycle events, and malformed records. Every decision comes from the injection stream of the
 * seed, in timeline order, so it is as reproducible as the workload.
 */
final class Injector {
    /** A duplicate follows its original within this many records. */
    private static final int MAX_DUPLICATE_DELAY_RECORDS = 200;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record PendingDuplicate(long dueAfterRecords, long sequence, PlannedRecord.RawRecord record, String eventId) {}

    private final Random rnd;
    private final GeneratorConfig.Injection rates;
    private final WireFormat format;
    private final PlannerOutput out;
    /** Lifecycle events held back until their job's next lifecycle event has been published, by job id. */
    private final Map<String, PlannedRecord.ValidEvent> held = new LinkedHashMap<>();
    private final PriorityQueue<PendingDuplicate> duplicates = new PriorityQueue<>(
            Comparator.comparingLong(PendingDuplicate::dueAfterRecords).thenComparingLong(PendingDuplicate::sequence));
    private long duplicateSequence;
    private int malformedCount;

    Injector(GeneratorConfig config, PlannerOutput out) {
        this.rnd = Randoms.stream(config.seed(), Randoms.INJECTIONS, 0);
        this.rates = config.inject();
        this.format = config.format();
        this.out = out;
    }

    void accept(TimelineEvent event) {
        if (!event.lifecycle()) {
            emit(event.record());
            return;
        }
        PlannedRecord.ValidEvent predecessor = held.remove(event.jobId());
        if (predecessor == null && shouldHoldBack(event)) {
            held.put(event.jobId(), event.record());
            return;
        }
        emitLifecycle(event.record());
        if (predecessor != null) {
            out.injected(truth(predecessor, InjectionKind.OUT_OF_ORDER,
                    ((JobLifecycleEvent) predecessor.event()).getEventId()));
            emitLifecycle(predecessor);
        }
    }

    /** Publishes what is still pending; call once after the last event. */
    void finish() {
        if (!held.isEmpty()) {
            throw new IllegalStateException("Lifecycle events held back without a successor: " + held.keySet());
        }
        while (!duplicates.isEmpty()) {
            emitDuplicate(duplicates.poll());
        }
    }

    private boolean shouldHoldBack(TimelineEvent event) {
        return rates.outOfOrder() > 0
                && event.successorGapMs() >= 0
                && event.successorGapMs() <= rates.outOfOrderMaxGap().toMillis()
                && rnd.nextDouble() < rates.outOfOrder();
    }

    private void emitLifecycle(PlannedRecord.ValidEvent record) {
        emit(record);
        JobLifecycleEvent event = (JobLifecycleEvent) record.event();
        if (rates.duplicates() > 0 && rnd.nextDouble() < rates.duplicates()) {
            ProducerRecord<byte[], byte[]> copy = record.toProducerRecord(format);
            PlannedRecord.RawRecord duplicate = new PlannedRecord.RawRecord(copy.topic(), copy.key(), copy.value(),
                    copy.timestamp(), List.of(copy.headers().toArray()), InjectionKind.DUPLICATE);
            duplicates.add(new PendingDuplicate(out.records() + 1 + rnd.nextInt(MAX_DUPLICATE_DELAY_RECORDS),
                    duplicateSequence++, duplicate, event.getEventId()));
        }
        if (rates.malformed() > 0 && rnd.nextDouble() < rates.malformed()) {
            emitMalformed(record, event);
        }
    }

    private void emit(PlannedRecord record) {
        out.emit(record);
        while (!duplicates.isEmpty() && duplicates.peek().dueAfterRecords() <= out.records()) {
            emitDuplicate(duplicates.poll());
        }
    }

    private void emitDuplicate(PendingDuplicate pending) {
        out.injected(truth(pending.record(), pending.eventId()));
        out.emit(pending.record());
    }

    /**
     * A bad record derived from {@code base}: the next kind in {@link InjectionKind#MALFORMED}, built from a copy of
     * the event with a fresh id so it can never be mistaken for the valid one.
     */
    private void emitMalformed(PlannedRecord.ValidEvent base, JobLifecycleEvent event) {
        InjectionKind kind = InjectionKind.MALFORMED.get(malformedCount++ % InjectionKind.MALFORMED.size());
        String eventId = Randoms.uuid(rnd);
        JobLifecycleEvent copy = JobLifecycleEvent.newBuilder(event).setEventId(eventId).build();
        String key = event.getJobId();
        byte[] value;
        switch (kind) {
            case GARBAGE_BYTES -> {
                value = new byte[16 + rnd.nextInt(49)];
                rnd.nextBytes(value);
                // 0x80-0xBF starts neither Avro's C3 01 nor a JSON object, whatever follows.
                value[0] = (byte) (0x80 + rnd.nextInt(0x40));
                eventId = null;
            }
            case TRUNCATED_AVRO -> {
                byte[] full = AvroCodec.encode(copy);
                value = Arrays.copyOf(full, AvroCodec.HEADER_LENGTH + (full.length - AvroCodec.HEADER_LENGTH) / 2);
            }
            case JSON_MISSING_FIELD -> value = editJson(copy, json -> json.remove("user_id"));
            case JSON_UNKNOWN_EVENT_TYPE -> value = editJson(copy, json -> json.put("event_type", "PREEMPTED"));
            case KEY_MISMATCH -> {
                // A classic producer bug: keying by the user instead of the job.
                key = event.getUserId();
                value = format.encode(copy);
            }
            case EMPTY_VALUE -> {
                value = new byte[0];
                eventId = null;
            }
            default -> throw new IllegalStateException("Not a malformed kind: " + kind);
        }
        PlannedRecord.RawRecord record = new PlannedRecord.RawRecord(base.topic(), key.getBytes(StandardCharsets.UTF_8),
                value, base.timestamp(), List.of(), kind);
        out.injected(truth(record, eventId));
        out.emit(record);
    }

    private static byte[] editJson(JobLifecycleEvent event, java.util.function.Consumer<ObjectNode> edit) {
        try {
            ObjectNode json = (ObjectNode) JSON.readTree(JsonCodec.encode(event));
            edit.accept(json);
            return JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GroundTruth.Injected truth(PlannedRecord.RawRecord record, String eventId) {
        return new GroundTruth.Injected(record.topic(), new String(record.key(), StandardCharsets.UTF_8), record.kind(),
                record.kind().expectedReason(), eventId, record.timestamp());
    }

    private static GroundTruth.Injected truth(PlannedRecord.ValidEvent record, InjectionKind kind, String eventId) {
        return new GroundTruth.Injected(record.topic(), ((JobLifecycleEvent) record.event()).getJobId(), kind,
                kind.expectedReason(), eventId, record.timestamp());
    }
}
