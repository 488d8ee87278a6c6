package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.serde.EventDecoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes every Kafka record into an {@link InputEnvelope}: the event, or the dead letter it became. It never throws,
 * so one bad record cannot fail (and endlessly restart) the job.
 */
public final class EnvelopeDeserializer implements KafkaRecordDeserializationSchema<InputEnvelope> {
    private static final long serialVersionUID = 1L;

    private final EventDecoder decoder;

    public EnvelopeDeserializer(EventDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputEnvelope> out) {
        out.collect(decoder.decode(record.topic(), record.partition(), record.offset(), record.timestamp(),
                record.key(), record.value()));
    }

    @Override
    public TypeInformation<InputEnvelope> getProducedType() {
        return new AvroTypeInfo<>(InputEnvelope.class);
    }
}
