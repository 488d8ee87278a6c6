package io.cosmichorizons.generator;

import io.cosmichorizons.events.DeadLetterReason;
import java.util.List;

/** A kind of injected record, with the dead-letter reason the pipeline should give it. */
public enum InjectionKind {
    /** An exact copy of an earlier lifecycle record. */
    DUPLICATE(DeadLetterReason.DUPLICATE_EVENT),
    /** A valid lifecycle event published right after its successor; the pipeline must reorder it, not reject it. */
    OUT_OF_ORDER(null),
    /** Random bytes that are neither Avro single-object encoding nor JSON. */
    GARBAGE_BYTES(DeadLetterReason.UNPARSEABLE),
    /** An Avro single-object record cut off in the middle of its body. */
    TRUNCATED_AVRO(DeadLetterReason.UNPARSEABLE),
    /** A JSON lifecycle event without its required user_id. */
    JSON_MISSING_FIELD(DeadLetterReason.MISSING_FIELD),
    /** A JSON lifecycle event whose event_type is not in the contract. */
    JSON_UNKNOWN_EVENT_TYPE(DeadLetterReason.UNKNOWN_EVENT_TYPE),
    /** A valid event whose Kafka key is the user_id instead of the job_id. */
    KEY_MISMATCH(DeadLetterReason.KEY_MISMATCH),
    /** A record with a key and an empty value. */
    EMPTY_VALUE(DeadLetterReason.EMPTY_RECORD);

    /** The malformed kinds, in the order the generator cycles through them. */
    public static final List<InjectionKind> MALFORMED =
            List.of(GARBAGE_BYTES, TRUNCATED_AVRO, JSON_MISSING_FIELD, JSON_UNKNOWN_EVENT_TYPE, KEY_MISMATCH, EMPTY_VALUE);

    private final DeadLetterReason expectedReason;

    InjectionKind(DeadLetterReason expectedReason) {
        this.expectedReason = expectedReason;
    }

    /** The reason the pipeline's dead letter should carry; null for {@link #OUT_OF_ORDER}, which must be accepted. */
    public DeadLetterReason expectedReason() {
        return expectedReason;
    }
}
