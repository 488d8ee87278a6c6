package io.cosmichorizons.publisher;

import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.serde.EventValidator;
import io.cosmichorizons.serde.RejectedRecordException;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * The checks every event passes before it is sent: conformance to its Avro schema (types, nulls, union branches),
 * then the contract rules of {@link EventValidator}, with the wall clock as the reference time.
 */
final class EventChecks {
    private final EventValidator validator;

    EventChecks(EventValidator validator) {
        this.validator = validator;
    }

    /** Throws {@link InvalidEventException} naming the first offending field; returns normally when the event is valid. */
    void check(SpecificRecord event, long nowMillis) {
        Problem problem = conformanceProblem(event.getSchema(), event, "");
        if (problem != null) {
            throw invalid(event, problem.reason(), problem.message());
        }
        if (event instanceof NotificationPreference preference) {
            // Not an input event, so EventValidator has no rules for it; the key field is what matters.
            if (preference.getUserId().isBlank()) {
                throw invalid(event, DeadLetterReason.MISSING_FIELD, "Required field 'user_id' is empty");
            }
            return;
        }
        try {
            validator.validate(event, nowMillis);
        } catch (RejectedRecordException e) {
            throw invalid(event, e.reason(), e.getMessage());
        }
    }

    static InvalidEventException invalid(SpecificRecord event, DeadLetterReason reason, String problem) {
        return new InvalidEventException(reason, "Invalid " + event.getSchema().getName() + describe(event) + ": " + problem);
    }

    /** Which event it is, as far as its key fields are set, so the message can be traced back to the caller. */
    private static String describe(SpecificRecord event) {
        Schema schema = event.getSchema();
        StringBuilder sb = new StringBuilder();
        for (String name : new String[] {"job_id", "resource_id", "user_id", "event_type", "action"}) {
            Schema.Field field = schema.getField(name);
            if (field != null && event.get(field.pos()) != null) {
                sb.append(sb.length() == 0 ? " (" : ", ").append(name).append(' ').append(event.get(field.pos()));
            }
        }
        return sb.length() == 0 ? "" : sb.append(')').toString();
    }

    /** What is wrong with a field, and the dead-letter reason that goes with it. */
    record Problem(DeadLetterReason reason, String message) {}

    /**
     * The first place where {@code value} does not fit {@code schema}, or null. Avro's own
     * {@code GenericData.validate} answers only yes or no, and with generated classes it rejects their Java enums and
     * {@link Instant} timestamps; this walk names the field and delegates the leaves to {@link SpecificData}.
     */
    static Problem conformanceProblem(Schema schema, Object value, String path) {
        switch (schema.getType()) {
            case RECORD -> {
                if (!(value instanceof IndexedRecord record)
                        || !record.getSchema().getFullName().equals(schema.getFullName())) {
                    return value == null ? missing(path) : mismatch(path, schema, value);
                }
                for (Schema.Field field : schema.getFields()) {
                    Problem problem = conformanceProblem(field.schema(), record.get(field.pos()), join(path, field.name()));
                    if (problem != null) {
                        return problem;
                    }
                }
                return null;
            }
            case UNION -> {
                if (value instanceof IndexedRecord record) {
                    // Report the problem inside the matching record branch, not just "no branch fits".
                    Schema branch = schema.getTypes().stream()
                            .filter(b -> b.getFullName().equals(record.getSchema().getFullName()))
                            .findFirst().orElse(null);
                    return branch == null ? mismatch(path, schema, value) : conformanceProblem(branch, value, path);
                }
                for (Schema branch : schema.getTypes()) {
                    if (conformanceProblem(branch, value, path) == null) {
                        return null;
                    }
                }
                return value == null ? missing(path) : mismatch(path, schema, value);
            }
            case ARRAY -> {
                if (!(value instanceof Collection<?> items)) {
                    return value == null ? missing(path) : mismatch(path, schema, value);
                }
                int i = 0;
                for (Object item : items) {
                    Problem problem = conformanceProblem(schema.getElementType(), item, path + "[" + i++ + "]");
                    if (problem != null) {
                        return problem;
                    }
                }
                return null;
            }
            case MAP -> {
                if (!(value instanceof Map<?, ?> map)) {
                    return value == null ? missing(path) : mismatch(path, schema, value);
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof CharSequence)) {
                        return new Problem(DeadLetterReason.INVALID_VALUE,
                                "Field '" + path + "' has a map key that is not a string: " + e.getKey());
                    }
                    Problem problem = conformanceProblem(schema.getValueType(), e.getValue(), path + "." + e.getKey());
                    if (problem != null) {
                        return problem;
                    }
                }
                return null;
            }
            default -> {
                if (value == null) {
                    return schema.getType() == Schema.Type.NULL ? null : missing(path);
                }
                if (schema.getLogicalType() instanceof LogicalTypes.TimestampMillis && value instanceof Instant) {
                    return null;
                }
                return SpecificData.get().validate(schema, value) ? null : mismatch(path, schema, value);
            }
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private static Problem missing(String path) {
        return new Problem(DeadLetterReason.MISSING_FIELD, "Required field '" + path + "' is missing (null)");
    }

    private static Problem mismatch(String path, Schema schema, Object value) {
        String expected = schema.getType() == Schema.Type.UNION
                ? schema.getTypes().stream().map(Schema::getName).toList().toString()
                : schema.getName();
        String shown = String.valueOf(value);
        return new Problem(DeadLetterReason.INVALID_VALUE, "Field '" + path + "' should be " + expected + " but is a "
                + value.getClass().getSimpleName() + " (" + (shown.length() > 60 ? shown.substring(0, 60) + "..." : shown) + ")");
    }
}
