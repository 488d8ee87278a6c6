package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.serde.AvroCodec;
import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes output records as Avro single-object encoding (the same wire format as the inputs), keyed by a field of the
 * record, with a schema-fingerprint header.
 */
public class AvroRecordSerializer<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final SerializableFunction<T, byte[]> keyOf;

    public AvroRecordSerializer(String topic, SerializableFunction<T, byte[]> keyOf) {
        this.topic = topic;
        this.keyOf = keyOf;
    }

    public static <T extends SpecificRecord> AvroRecordSerializer<T> keyedBy(String topic,
            SerializableFunction<T, String> key) {
        return new AvroRecordSerializer<>(topic, r -> key.apply(r).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T record, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("schema_fingerprint", AvroCodec.fingerprintHex(record.getSchema()).getBytes(StandardCharsets.UTF_8));
        headers.add("content_type", "avro/binary".getBytes(StandardCharsets.UTF_8));
        addHeaders(record, headers);
        return new ProducerRecord<>(topic, null, timestamp, keyOf.apply(record), AvroCodec.encode(record), headers);
    }

    /** Hook for subclasses that add record-specific headers. */
    protected void addHeaders(T record, RecordHeaders headers) {}
}
