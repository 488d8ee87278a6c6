package io.cosmichorizons.publisher;

import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.JsonCodec;
import org.apache.avro.specific.SpecificRecord;

/** How record values are encoded on the wire. Consumers detect the format per record, so topics may mix both. */
public enum WireFormat {
    /** Avro single-object encoding (C3 01, schema fingerprint, Avro binary body). */
    AVRO("avro/binary"),
    /** The contract's snake_case JSON, as the platform's Node producers write it. */
    JSON("application/json");

    private final String contentType;

    WireFormat(String contentType) {
        this.contentType = contentType;
    }

    /** The value of the {@code content_type} header. */
    public String contentType() {
        return contentType;
    }

    /** Encodes a record in this format; deterministic, so equal records give equal bytes. */
    public byte[] encode(SpecificRecord record) {
        return this == AVRO ? AvroCodec.encode(record) : JsonCodec.encode(record);
    }
}
