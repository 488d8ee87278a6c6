package io.cosmichorizons.verification;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;

/**
 * What was published, as the oracle knows it: the generator's ground truth, plus what the ground truth does not list
 * and is read back from the input topics (the accepted lifecycle and audit-trail records with their Kafka coordinates,
 * and the metrics samples), plus the records a fuzzer sent.
 *
 * @param truth the generator's ground truth (jobs, their valid lifecycle events, the injected bad records)
 * @param audited the records the audit ledger must hold, one per accepted event: each valid lifecycle event of the
 *     ground truth and each valid audit-trail event, as first published (a re-published copy is a duplicate)
 * @param samples the valid metrics samples
 * @param fuzzed the records a fuzzer sent, every one of them invalid
 */
public record PublishedInputs(GroundTruth truth, List<PublishedEvent> audited, List<JobMetricsEvent> samples,
        List<FuzzedRecord> fuzzed) {

    public PublishedInputs {
        audited = List.copyOf(audited);
        samples = List.copyOf(samples);
        fuzzed = List.copyOf(fuzzed);
    }

    /** Only the ground truth: for checks that need nothing read back (job_status, notifications, dead letters). */
    public static PublishedInputs groundTruthOnly(GroundTruth truth) {
        return new PublishedInputs(truth, List.of(), List.of(), List.of());
    }

    /**
     * A record a fuzzer sent, and which must be dead-lettered.
     *
     * @param kind how it was made (e.g. {@code TRUNCATED_AVRO})
     * @param expectedReason the dead-letter reason it must get, or null when any reason will do
     */
    public record FuzzedRecord(String topic, int partition, long offset, String kind, String expectedReason) {
        String coordinates() {
            return topic + "/" + partition + "@" + offset;
        }
    }

    /**
     * A valid lifecycle or audit-trail event as published: where its record is, the record's Kafka timestamp, and the
     * decoded event ({@link JobLifecycleEvent} or {@link AuditTrailEvent}).
     */
    public record PublishedEvent(String topic, int partition, long offset, long kafkaTimestamp, SpecificRecord event) {
        public PublishedEvent {
            if (!(event instanceof JobLifecycleEvent) && !(event instanceof AuditTrailEvent)) {
                throw new IllegalArgumentException("Not a lifecycle or audit-trail event: " + event);
            }
        }

        public String eventId() {
            return event instanceof JobLifecycleEvent e ? e.getEventId() : ((AuditTrailEvent) event).getEventId();
        }
    }

    /**
     * Reads the accepted lifecycle and audit-trail records and the valid metrics samples back from the ground truth's
     * input topics. Records listed in {@code fuzzed} are skipped. On the lifecycle topic the generator's injected bad
     * records and duplicates are passed over (only the first copy of each ground-truth event is kept); on the other
     * topics any record that does not decode is a generator bug.
     */
    public static PublishedInputs read(String bootstrapServers, GroundTruth truth, List<FuzzedRecord> fuzzed) {
        Set<String> skip = new HashSet<>();
        fuzzed.forEach(f -> skip.add(f.coordinates()));
        Set<String> lifecycleIds = lifecycleEventIds(truth);
        Map<String, PublishedEvent> firstCopies = new HashMap<>();
        Consumer<InputEnvelope> keepFirstCopy = e -> {
            var s = e.getSource();
            PublishedEvent p = new PublishedEvent(s.getTopic(), s.getPartition(), s.getOffset(),
                    s.getTimestamp().toEpochMilli(), (SpecificRecord) e.getEvent());
            // A duplicate keeps its key, so it shares its original's partition; the lower offset was first.
            firstCopies.merge(p.topic() + " " + p.eventId(), p, (a, b) -> a.partition() == b.partition()
                    && b.offset() < a.offset() ? b : a);
        };
        read(bootstrapServers, truth.run().topics().lifecycle(), EventKind.LIFECYCLE, skip, false, e -> {
            if (lifecycleIds.contains(((JobLifecycleEvent) e.getEvent()).getEventId())) {
                keepFirstCopy.accept(e);
            }
        });
        read(bootstrapServers, truth.run().topics().auditTrail(), EventKind.AUDIT_TRAIL, skip, true, keepFirstCopy);
        List<JobMetricsEvent> samples = new ArrayList<>();
        read(bootstrapServers, truth.run().topics().metrics(), EventKind.METRICS, skip, true,
                e -> samples.add((JobMetricsEvent) e.getEvent()));
        return new PublishedInputs(truth, List.copyOf(firstCopies.values()), samples, fuzzed);
    }

    /**
     * Every record of {@code topic} except the fuzzed ones that decodes to a valid event of its kind; with
     * {@code allValid}, any other record is a generator bug.
     */
    private static void read(String bootstrapServers, String topic, EventKind kind, Set<String> skip, boolean allValid,
            Consumer<InputEnvelope> sink) {
        EventDecoder decoder = new EventDecoder(kind);
        TopicReader.readAll(bootstrapServers, topic, Duration.ofSeconds(120), r -> {
            if (!skip.contains(topic + "/" + r.partition() + "@" + r.offset())) {
                InputEnvelope e = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                if (kind.recordClass().isInstance(e.getEvent())) {
                    sink.accept(e);
                } else if (allValid) {
                    throw new IllegalStateException("A record of " + topic + " that is not a valid event: " + e);
                }
            }
        });
    }

    /** The event ids of every valid lifecycle event of the ground truth. */
    public Set<String> lifecycleEventIds() {
        return lifecycleEventIds(truth);
    }

    /** The event ids of the valid audit-trail records. */
    public Set<String> auditTrailEventIds() {
        Set<String> ids = new HashSet<>();
        audited.stream().filter(p -> p.event() instanceof AuditTrailEvent).forEach(p -> ids.add(p.eventId()));
        return ids;
    }

    private static Set<String> lifecycleEventIds(GroundTruth truth) {
        Set<String> ids = new HashSet<>();
        truth.jobs().forEach(j -> j.lifecycle().forEach(step -> ids.add(step.eventId())));
        return ids;
    }
}
