package io.cosmichorizons.serde;

import io.cosmichorizons.events.DeadLetterReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding: the two magic bytes C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer's schema, then the Avro binary body. Decoding resolves every published version in {@link SchemaHistory}.
 */
public final class AvroCodec {
    public static final byte MAGIC_0 = (byte) 0xC3;
    public static final byte MAGIC_1 = (byte) 0x01;
    /** Magic (2) + fingerprint (8). */
    public static final int HEADER_LENGTH = 10;

    private static final Map<Class<?>, BinaryMessageEncoder<?>> ENCODERS = new ConcurrentHashMap<>();
    private static final Map<Class<?>, BinaryMessageDecoder<?>> DECODERS = new ConcurrentHashMap<>();
    private static final Map<Schema, String> FINGERPRINTS = new ConcurrentHashMap<>();

    static {
        // Corrupt length prefixes must fail fast instead of allocating gigabytes; our records are at most a few MiB.
        // Avro reads these limits once, so set them before its decoders load, unless an operator set them already.
        setIfAbsent("org.apache.avro.limits.string.maxLength", 16 * 1024 * 1024);
        setIfAbsent("org.apache.avro.limits.bytes.maxLength", 16 * 1024 * 1024);
        setIfAbsent("org.apache.avro.limits.collectionItems.maxLength", 1024 * 1024);
    }

    private AvroCodec() {}

    private static void setIfAbsent(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, String.valueOf(value));
        }
    }

    public static boolean isSingleObject(byte[] bytes) {
        return bytes != null && bytes.length >= 2 && bytes[0] == MAGIC_0 && bytes[1] == MAGIC_1;
    }

    /** The CRC-64-AVRO fingerprint of the schema's parsing canonical form, as carried in the header. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** Hex form of the fingerprint, as sent in the schema-fingerprint header. Cached: normalising costs microseconds. */
    public static String fingerprintHex(Schema schema) {
        return FINGERPRINTS.computeIfAbsent(schema, s -> String.format("%016x", fingerprint(s)));
    }

    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> byte[] encode(T record) {
        BinaryMessageEncoder<T> encoder = (BinaryMessageEncoder<T>) ENCODERS.computeIfAbsent(record.getClass(),
                c -> new BinaryMessageEncoder<>(SpecificData.getForClass(c), record.getSchema()));
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Cannot encode " + record.getSchema().getName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes a single-object-encoded record, mapping each failure to its dead-letter reason. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type, Schema schema)
            throws RejectedRecordException {
        if (bytes.length < HEADER_LENGTH) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                    "Truncated Avro single-object header: " + bytes.length + " bytes, need " + HEADER_LENGTH);
        }
        BinaryMessageDecoder<T> decoder = (BinaryMessageDecoder<T>) DECODERS.computeIfAbsent(type, c -> {
            BinaryMessageDecoder<T> d = new BinaryMessageDecoder<>(SpecificData.getForClass(c), schema);
            for (Schema older : SchemaHistory.of(schema.getName())) {
                d.addSchema(older);
            }
            return d;
        });
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new RejectedRecordException(DeadLetterReason.UNKNOWN_SCHEMA,
                    "Unknown schema fingerprint " + String.format("%016x", ByteBuffer.wrap(bytes, 2, 8)
                            .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong()) + " for " + schema.getName());
        } catch (BadHeaderException e) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE, "Bad Avro header: " + e.getMessage());
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                    "Cannot decode Avro body as " + schema.getName() + ": " + describe(e));
        } catch (RuntimeException e) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                    "Cannot decode Avro body as " + schema.getName() + ": " + describe(e));
        }
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + truncate(message, 200));
    }

    static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
