package io.cosmichorizons.verification;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What was published, as the oracle knows it: the generator's ground truth, plus what the ground truth does not list
 * and is read back from the input topics (the audit-trail events and the metrics samples), plus the records a fuzzer
 * sent.
 *
 * @param truth the generator's ground truth (jobs, their valid lifecycle events, the injected bad records)
 * @param auditTrailEventIds the event ids of the valid audit-trail records
 * @param samples the valid metrics samples
 * @param fuzzed the records a fuzzer sent, every one of them invalid
 */
public record PublishedInputs(GroundTruth truth, Set<String> auditTrailEventIds, List<JobMetricsEvent> samples,
        List<FuzzedRecord> fuzzed) {

    public PublishedInputs {
        auditTrailEventIds = Set.copyOf(auditTrailEventIds);
        samples = List.copyOf(samples);
        fuzzed = List.copyOf(fuzzed);
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
     * Reads the valid audit-trail events and metrics samples back from the ground truth's input topics. Records
     * listed in {@code fuzzed} are skipped; any other record that does not decode is a generator bug.
     */
    public static PublishedInputs read(String bootstrapServers, GroundTruth truth, List<FuzzedRecord> fuzzed) {
        Set<String> skip = new HashSet<>();
        fuzzed.forEach(f -> skip.add(f.coordinates()));
        Set<String> trail = new HashSet<>();
        readValid(bootstrapServers, truth.run().topics().auditTrail(), EventKind.AUDIT_TRAIL, skip,
                event -> trail.add(((AuditTrailEvent) event).getEventId()));
        List<JobMetricsEvent> samples = new ArrayList<>();
        readValid(bootstrapServers, truth.run().topics().metrics(), EventKind.METRICS, skip,
                event -> samples.add((JobMetricsEvent) event));
        return new PublishedInputs(truth, trail, samples, fuzzed);
    }

    /** Every record of {@code topic} except the fuzzed ones, decoded; each must be a valid event of its kind. */
    private static void readValid(String bootstrapServers, String topic, EventKind kind, Set<String> skip,
            java.util.function.Consumer<Object> sink) {
        EventDecoder decoder = new EventDecoder(kind);
        TopicReader.readAll(bootstrapServers, topic, Duration.ofSeconds(120), r -> {
            if (!skip.contains(topic + "/" + r.partition() + "@" + r.offset())) {
                InputEnvelope e = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                if (!kind.recordClass().isInstance(e.getEvent())) {
                    throw new IllegalStateException("A record of " + topic + " that is not a valid event: " + e);
                }
                sink.accept(e.getEvent());
            }
        });
    }

    /** The event ids of every valid lifecycle event of the ground truth. */
    public Set<String> lifecycleEventIds() {
        Set<String> ids = new HashSet<>();
        truth.jobs().forEach(j -> j.lifecycle().forEach(step -> ids.add(step.eventId())));
        return ids;
    }
}
