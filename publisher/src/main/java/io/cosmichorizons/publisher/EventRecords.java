package io.cosmichorizons.publisher;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Turns an event into the exact Kafka record the publisher sends: key, encoded value, timestamp (the event time) and
 * headers. It is a pure function of its arguments, so tools that must predict the publisher's bytes (the generator's
 * duplicates, tests) call it instead of re-implementing the layout.
 */
public final class EventRecords {
    /** Fingerprinting normalises the whole schema each time, which would dominate the cost of small records. */
    private static final Map<Schema, byte[]> FINGERPRINTS = new ConcurrentHashMap<>();

    private EventRecords() {}

    /**
     * The record for {@code event}.
     *
     * @param correlationId the {@code correlation_id} header; for lifecycle and audit events it must be the event's
     *     own correlation_id (see {@link #correlationIdOf})
     */
    public static ProducerRecord<byte[], byte[]> toProducerRecord(String topic, SpecificRecord event, WireFormat format,
            String correlationId) {
        long eventTime = eventTimeOf(event).toEpochMilli();
        RecordHeaders headers = new RecordHeaders();
        headers.add(EventHeaders.CORRELATION_ID, utf8(correlationId));
        headers.add(EventHeaders.EVENT_TYPE, utf8(eventTypeOf(event)));
        headers.add(EventHeaders.SCHEMA_FINGERPRINT,
                FINGERPRINTS.computeIfAbsent(event.getSchema(), schema -> utf8(AvroCodec.fingerprintHex(schema))));
        headers.add(EventHeaders.TIMESTAMP, utf8(Long.toString(eventTime)));
        headers.add(EventHeaders.CONTENT_TYPE, utf8(format.contentType()));
        return new ProducerRecord<>(topic, null, eventTime, utf8(keyOf(event)), format.encode(event), headers);
    }

    /** The partition key: job_id for lifecycle events and metrics, resource_id for audit actions, user_id for preferences. */
    public static String keyOf(SpecificRecord event) {
        if (event instanceof NotificationPreference preference) {
            return preference.getUserId();
        }
        return EventKind.of(event).keyOf(event);
    }

    /** The event time, which also becomes the Kafka record timestamp. */
    public static Instant eventTimeOf(SpecificRecord event) {
        if (event instanceof JobLifecycleEvent e) {
            return e.getOccurredAt();
        }
        if (event instanceof JobMetricsEvent m) {
            return m.getSampledAt();
        }
        if (event instanceof AuditTrailEvent a) {
            return a.getOccurredAt();
        }
        if (event instanceof NotificationPreference p) {
            return p.getUpdatedAt();
        }
        throw new IllegalArgumentException("Not a published event: " + event.getSchema().getFullName());
    }

    /** The {@code event_type} header: the lifecycle step, the audit action, or the record name. */
    public static String eventTypeOf(SpecificRecord event) {
        if (event instanceof NotificationPreference) {
            return event.getSchema().getName();
        }
        return EventKind.of(event).typeOf(event);
    }

    /** The event's own correlation_id; empty for metrics samples and preferences, which carry none. */
    public static Optional<String> correlationIdOf(SpecificRecord event) {
        if (event instanceof JobLifecycleEvent e) {
            return Optional.ofNullable(e.getCorrelationId());
        }
        if (event instanceof AuditTrailEvent a) {
            return Optional.ofNullable(a.getCorrelationId());
        }
        return Optional.empty();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
