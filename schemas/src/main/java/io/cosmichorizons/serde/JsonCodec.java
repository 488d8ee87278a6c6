package io.cosmichorizons.serde;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.cosmichorizons.events.DeadLetterReason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * JSON with the schema's snake_case field names, as the platform's Node producers publish it.
 *
 * <ul>
 *   <li>Timestamps: ISO-8601 strings on output; ISO-8601 strings or epoch milliseconds on input.
 *   <li>Nullable fields: the value or null (no Avro union wrapper); a missing nullable field with a default is null.
 *   <li>The lifecycle {@code details} union: a plain object whose branch is chosen by {@code event_type}.
 *   <li>bytes: base64 strings.
 * </ul>
 *
 * The encoding follows schema field order and is therefore deterministic; the audit ledger uses its
 * {@linkplain #encodeCanonical canonical variant} as the payload. Conversion goes through Avro binary so that logical
 * types are handled by Avro itself.
 */
public final class JsonCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory FACTORY = MAPPER.getFactory();
    /** Generic model without logical-type conversions: timestamps stay epoch-millis longs. */
    private static final GenericData RAW = new GenericData();

    private JsonCodec() {}

    // ------------------------------------------------------------------------------------------ encode

    public static byte[] encode(SpecificRecord record) {
        return encode(record, false);
    }

    public static String encodeToString(SpecificRecord record) {
        return new String(encode(record), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The canonical form: as {@link #encode}, but record fields that hold null are left out (every nullable field of
     * the contracts defaults to null, so absent and null mean the same). A compatible contract change adds such a
     * field; leaving it out keeps the canonical form of every event that does not set it the same whichever version
     * of the contract the reader was built with. The audit ledger needs that: after an upgrade, a replayed event must
     * hash exactly as it did before it.
     */
    public static String encodeCanonical(SpecificRecord record) {
        return new String(encode(record, true), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] encode(SpecificRecord record, boolean omitNulls) {
        GenericRecord raw = toRaw(record);
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator gen = FACTORY.createGenerator(out)) {
            writeValue(gen, raw, record.getSchema(), omitNulls);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static GenericRecord toRaw(SpecificRecord record) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
            @SuppressWarnings("unchecked")
            SpecificDatumWriter<SpecificRecord> writer =
                    new SpecificDatumWriter<>(record.getSchema(), SpecificData.getForClass(record.getClass()));
            writer.write(record, encoder);
            encoder.flush();
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null);
            return new GenericDatumReader<GenericRecord>(record.getSchema(), record.getSchema(), RAW).read(null, decoder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeValue(JsonGenerator gen, Object value, Schema schema, boolean omitNulls) throws IOException {
        switch (schema.getType()) {
            case RECORD -> {
                GenericRecord r = (GenericRecord) value;
                gen.writeStartObject();
                for (Schema.Field f : schema.getFields()) {
                    Object fieldValue = r.get(f.pos());
                    if (fieldValue == null && omitNulls) {
                        continue;
                    }
                    gen.writeFieldName(f.name());
                    writeValue(gen, fieldValue, f.schema(), omitNulls);
                }
                gen.writeEndObject();
            }
            case UNION -> {
                if (value == null) {
                    gen.writeNull();
                } else {
                    writeValue(gen, value, schema.getTypes().get(RAW.resolveUnion(schema, value)), omitNulls);
                }
            }
            case NULL -> gen.writeNull();
            case STRING, ENUM -> gen.writeString(value.toString());
            case BOOLEAN -> gen.writeBoolean((Boolean) value);
            case INT -> gen.writeNumber((Integer) value);
            case LONG -> {
                if (isTimestamp(schema)) {
                    gen.writeString(Instant.ofEpochMilli((Long) value).toString());
                } else {
                    gen.writeNumber((Long) value);
                }
            }
            case FLOAT -> gen.writeNumber((Float) value);
            case DOUBLE -> gen.writeNumber((Double) value);
            case BYTES -> {
                ByteBuffer b = ((ByteBuffer) value).duplicate();
                byte[] copy = new byte[b.remaining()];
                b.get(copy);
                gen.writeBinary(copy);
            }
            case ARRAY -> {
                gen.writeStartArray();
                for (Object item : (List<?>) value) {
                    writeValue(gen, item, schema.getElementType(), omitNulls);
                }
                gen.writeEndArray();
            }
            case MAP -> {
                gen.writeStartObject();
                // Sorted keys keep the encoding canonical whatever map implementation the record holds.
                Map<String, Object> sorted = new java.util.TreeMap<>();
                ((Map<?, ?>) value).forEach((k, v) -> sorted.put(k.toString(), v));
                for (Map.Entry<String, Object> e : sorted.entrySet()) {
                    gen.writeFieldName(e.getKey());
                    writeValue(gen, e.getValue(), schema.getValueType(), omitNulls);
                }
                gen.writeEndObject();
            }
            default -> throw new IllegalArgumentException("Unsupported schema type " + schema.getType());
        }
    }

    // ------------------------------------------------------------------------------------------ decode

    /** Parses JSON bytes into the kind's record, mapping each failure to its dead-letter reason. */
    public static <T extends SpecificRecord> T decode(byte[] json, Class<T> type, Schema schema)
            throws RejectedRecordException {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                    "Not valid JSON: " + AvroCodec.truncate(e.getOriginalMessage(), 200));
        } catch (IOException e) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE, "Not valid JSON: " + AvroCodec.describe(e));
        }
        if (root == null || !root.isObject()) {
            throw new RejectedRecordException(DeadLetterReason.UNPARSEABLE,
                    "Expected a JSON object, got " + (root == null ? "nothing" : root.getNodeType()));
        }
        GenericRecord raw = (GenericRecord) convert(root, schema, "", root);
        return fromRaw(raw, type, schema);
    }

    private static <T extends SpecificRecord> T fromRaw(GenericRecord raw, Class<T> type, Schema schema)
            throws RejectedRecordException {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
            new GenericDatumWriter<GenericRecord>(schema, RAW).write(raw, encoder);
            encoder.flush();
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null);
            @SuppressWarnings("unchecked")
            SpecificDatumReader<T> reader = new SpecificDatumReader<>(schema, schema, SpecificData.getForClass(type));
            return reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE,
                    "JSON does not fit " + schema.getName() + ": " + AvroCodec.describe(e));
        }
    }

    private static Object convert(JsonNode node, Schema schema, String path, JsonNode enclosing)
            throws RejectedRecordException {
        switch (schema.getType()) {
            case RECORD: {
                if (!node.isObject()) {
                    throw invalid(path, "an object", node);
                }
                GenericData.Record record = new GenericData.Record(schema);
                for (Schema.Field field : schema.getFields()) {
                    String fieldPath = path.isEmpty() ? field.name() : path + "." + field.name();
                    JsonNode child = node.get(field.name());
                    if (child == null || child.isNull()) {
                        if (isNullable(field.schema())) {
                            record.put(field.pos(), null);
                            continue;
                        }
                        if (field.hasDefaultValue() && child == null) {
                            record.put(field.pos(), RAW.getDefaultValue(field));
                            continue;
                        }
                        if (field.name().equals("event_type")) {
                            throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD,
                                    "Required field 'event_type' is missing");
                        }
                        throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD,
                                "Required field '" + fieldPath + "' is missing" + (child == null ? "" : " (null)"));
                    }
                    record.put(field.pos(), convert(child, field.schema(), fieldPath, node));
                }
                return record;
            }
            case UNION: {
                List<Schema> branches = schema.getTypes();
                List<Schema> nonNull = new ArrayList<>();
                for (Schema b : branches) {
                    if (b.getType() != Schema.Type.NULL) {
                        nonNull.add(b);
                    }
                }
                if (nonNull.size() == 1) {
                    return convert(node, nonNull.get(0), path, enclosing);
                }
                // The lifecycle details union: the branch is named by the enclosing event_type.
                Schema branch = detailsBranch(nonNull, enclosing, path);
                return convert(node, branch, path, enclosing);
            }
            case STRING:
                if (!node.isTextual()) {
                    throw invalid(path, "a string", node);
                }
                return node.textValue();
            case ENUM: {
                if (!node.isTextual()) {
                    throw invalid(path, "a string", node);
                }
                String symbol = node.textValue();
                if (!schema.hasEnumSymbol(symbol)) {
                    DeadLetterReason reason = path.equals("event_type")
                            ? DeadLetterReason.UNKNOWN_EVENT_TYPE : DeadLetterReason.INVALID_VALUE;
                    throw new RejectedRecordException(reason, "Unknown " + path + " '" + AvroCodec.truncate(symbol, 60)
                            + "'; expected one of " + schema.getEnumSymbols());
                }
                return new GenericData.EnumSymbol(schema, symbol);
            }
            case BOOLEAN:
                if (!node.isBoolean()) {
                    throw invalid(path, "true or false", node);
                }
                return node.booleanValue();
            case INT:
                if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                    throw invalid(path, "a 32-bit integer", node);
                }
                return node.intValue();
            case LONG:
                if (isTimestamp(schema) && node.isTextual()) {
                    try {
                        return Instant.parse(node.textValue()).toEpochMilli();
                    } catch (DateTimeParseException | ArithmeticException e) {
                        throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE,
                                "Field '" + path + "' is not an ISO-8601 instant: '" + AvroCodec.truncate(node.textValue(), 60) + "'");
                    }
                }
                if (!node.isIntegralNumber() || !node.canConvertToLong()) {
                    throw invalid(path, isTimestamp(schema) ? "an ISO-8601 instant or epoch milliseconds" : "a 64-bit integer", node);
                }
                return node.longValue();
            case FLOAT:
            case DOUBLE:
                if (!node.isNumber()) {
                    throw invalid(path, "a number", node);
                }
                double d = node.doubleValue();
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    throw invalid(path, "a finite number", node);
                }
                return schema.getType() == Schema.Type.FLOAT ? (Object) (float) d : (Object) d;
            case BYTES:
                try {
                    return ByteBuffer.wrap(node.binaryValue());
                } catch (IOException e) {
                    throw invalid(path, "base64 bytes", node);
                }
            case ARRAY: {
                if (!node.isArray()) {
                    throw invalid(path, "an array", node);
                }
                List<Object> items = new ArrayList<>(node.size());
                int i = 0;
                for (JsonNode item : node) {
                    items.add(convert(item, schema.getElementType(), path + "[" + i++ + "]", enclosing));
                }
                return items;
            }
            case MAP: {
                if (!node.isObject()) {
                    throw invalid(path, "an object", node);
                }
                Map<String, Object> map = new LinkedHashMap<>();
                Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
                while (fields.hasNext()) {
                    Map.Entry<String, JsonNode> e = fields.next();
                    map.put(e.getKey(), convert(e.getValue(), schema.getValueType(), path + "." + e.getKey(), enclosing));
                }
                return map;
            }
            default:
                throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, "Unsupported schema type at " + path);
        }
    }

    /** For JobLifecycleEvent.details: SUBMITTED -> SubmittedDetails, QUEUED -> QueuedDetails, ... */
    private static Schema detailsBranch(List<Schema> branches, JsonNode enclosing, String path)
            throws RejectedRecordException {
        JsonNode type = enclosing.get("event_type");
        if (type == null || !type.isTextual()) {
            throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD,
                    "Required field 'event_type' is missing, so '" + path + "' cannot be read");
        }
        String wanted = capitalize(type.textValue()) + "Details";
        for (Schema b : branches) {
            if (b.getName().equals(wanted)) {
                return b;
            }
        }
        throw new RejectedRecordException(DeadLetterReason.UNKNOWN_EVENT_TYPE,
                "Unknown event_type '" + AvroCodec.truncate(type.textValue(), 60) + "'");
    }

    private static String capitalize(String upper) {
        if (upper.isEmpty()) {
            return upper;
        }
        return upper.charAt(0) + upper.substring(1).toLowerCase(java.util.Locale.ROOT);
    }

    private static boolean isNullable(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return false;
        }
        for (Schema b : schema.getTypes()) {
            if (b.getType() == Schema.Type.NULL) {
                return true;
            }
        }
        return false;
    }

    static boolean isTimestamp(Schema schema) {
        LogicalType lt = schema.getLogicalType();
        return lt instanceof LogicalTypes.TimestampMillis;
    }

    private static RejectedRecordException invalid(String path, String expected, JsonNode actual) {
        JsonNodeType t = actual.getNodeType();
        return new RejectedRecordException(DeadLetterReason.INVALID_VALUE,
                "Field '" + path + "' should be " + expected + " but is " + t.name().toLowerCase(java.util.Locale.ROOT)
                        + (actual.isValueNode() ? " " + AvroCodec.truncate(actual.toString(), 60) : ""));
    }
}
