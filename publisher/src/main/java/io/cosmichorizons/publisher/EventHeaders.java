package io.cosmichorizons.publisher;

/**
 * Names of the Kafka headers the publisher puts on every record. Values are UTF-8 strings. Headers describe the
 * record for tools and tracing; consumers must not need them to decode the value.
 */
public final class EventHeaders {
    /** The event's correlation id (or, for records without one, the caller's {@link CorrelationContext}). */
    public static final String CORRELATION_ID = "correlation_id";
    /** The lifecycle step, the audit action, or the record name for metrics samples and preferences. */
    public static final String EVENT_TYPE = "event_type";
    /** {@code AvroCodec.fingerprintHex} of the writer's schema, also for JSON values. */
    public static final String SCHEMA_FINGERPRINT = "schema_fingerprint";
    /** Event time in epoch milliseconds, as a decimal string; equal to the Kafka record timestamp. */
    public static final String TIMESTAMP = "timestamp";
    /** {@code avro/binary} or {@code application/json}: see {@link WireFormat#contentType()}. */
    public static final String CONTENT_TYPE = "content_type";

    private EventHeaders() {}
}
