package io.cosmichorizons.serde;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.InputEnvelope;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns one Kafka record into an accepted event or a dead letter. It never throws: every failure becomes a
 * {@link DeadLetter} with a reason, a message, and the record's original bytes and coordinates.
 *
 * <p>The wire format is detected per record: Avro single-object encoding (C3 01 ...) or JSON (first non-blank byte
 * '{').
 */
public final class EventDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String STAGE = "deserializer";
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

    private final EventKind kind;
    private final int maxRecordBytes;
    private final Duration maxClockSkew;
    private transient EventValidator validator;

    public EventDecoder(EventKind kind, int maxRecordBytes, Duration maxClockSkew) {
        this.kind = kind;
        this.maxRecordBytes = maxRecordBytes;
        this.maxClockSkew = maxClockSkew;
    }

    public EventDecoder(EventKind kind) {
        this(kind, DEFAULT_MAX_RECORD_BYTES, EventValidator.DEFAULT_MAX_CLOCK_SKEW);
    }

    public EventKind kind() {
        return kind;
    }

    public InputEnvelope decode(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
        SourceRecord source = SourceRecord.newBuilder()
                .setTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setTimestamp(Instant.ofEpochMilli(timestamp))
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .build();
        SpecificRecord event = null;
        try {
            event = parse(value);
            validator().validate(event, timestamp);
            checkKey(event, key);
            return InputEnvelope.newBuilder().setSource(source).setEvent(event).build();
        } catch (RejectedRecordException e) {
            return rejected(source, e.reason(), e.getMessage(), event);
        } catch (RuntimeException | StackOverflowError e) {
            // Defensive: a bug or a pathological input must not stop the job.
            return rejected(source, DeadLetterReason.UNPARSEABLE, "Unexpected decoding failure: " + AvroCodec.describe(e), event);
        }
    }

    private SpecificRecord parse(byte[] value) throws RejectedRecordException {
        if (value == null || value.length == 0) {
            throw new RejectedRecordException(DeadLetterReason.EMPTY_RECORD,
                    value == null ? "Record has no value (tombstone)" : "Record value is empty");
        }
        if (value.length > maxRecordBytes) {
            throw new RejectedRecordException(DeadLetterReason.TOO_LARGE,
                    "Record is " + value.length + " bytes; the limit is " + maxRecordBytes);
        }
        if (AvroCodec.isSingleObject(value)) {
            return AvroCodec.decode(value, kind.recordClass(), kind.schema());
        }
        if (firstNonBlank(value) == '{') {
            return JsonCodec.decode(value, kind.recordClass(), kind.schema());
        }
        throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                "Neither Avro single-object encoding (C3 01) nor a JSON object; starts with " + hexPrefix(value));
    }

    private void checkKey(SpecificRecord event, byte[] key) throws RejectedRecordException {
        String expected = kind.keyOf(event);
        if (key == null) {
            throw new RejectedRecordException(DeadLetterReason.KEY_MISMATCH,
                    "Record has no key; the key must be the " + kind.keyField() + " '" + AvroCodec.truncate(expected, 80) + "'");
        }
        String actual = new String(key, StandardCharsets.UTF_8);
        if (!actual.equals(expected)) {
            throw new RejectedRecordException(DeadLetterReason.KEY_MISMATCH, "Kafka key '" + AvroCodec.truncate(actual, 80)
                    + "' differs from " + kind.keyField() + " '" + AvroCodec.truncate(expected, 80) + "'");
        }
    }

    private EventValidator validator() {
        if (validator == null) {
            validator = new EventValidator(maxClockSkew);
        }
        return validator;
    }

    private static InputEnvelope rejected(SourceRecord source, DeadLetterReason reason, String message, SpecificRecord event) {
        return InputEnvelope.newBuilder()
                .setSource(source)
                .setDeadLetter(DeadLetters.of(reason, message, STAGE, source, event))
                .build();
    }

    private static int firstNonBlank(byte[] value) {
        for (byte b : value) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return b;
            }
        }
        return -1;
    }

    private static String hexPrefix(byte[] value) {
        StringBuilder sb = new StringBuilder("0x");
        for (int i = 0; i < Math.min(8, value.length); i++) {
            sb.append(String.format("%02x", value[i]));
        }
        return sb.toString();
    }
}
