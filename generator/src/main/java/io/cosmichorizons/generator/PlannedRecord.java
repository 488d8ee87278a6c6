package io.cosmichorizons.generator;

import io.cosmichorizons.publisher.EventRecords;
import io.cosmichorizons.publisher.WireFormat;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** One record of a planned workload, in publishing order. */
public sealed interface PlannedRecord permits PlannedRecord.ValidEvent, PlannedRecord.RawRecord {

    String topic();

    /** The Kafka record timestamp. */
    long timestamp();

    /** The exact record that gets published; {@code format} matters only for valid events. */
    ProducerRecord<byte[], byte[]> toProducerRecord(WireFormat format);

    /**
     * A contract-valid event, published through the publisher library.
     *
     * @param correlationId the correlation_id header; for lifecycle and audit events equal to the event's own
     */
    record ValidEvent(String topic, SpecificRecord event, String correlationId) implements PlannedRecord {
        @Override
        public long timestamp() {
            return EventRecords.eventTimeOf(event).toEpochMilli();
        }

        @Override
        public ProducerRecord<byte[], byte[]> toProducerRecord(WireFormat format) {
            return EventRecords.toProducerRecord(topic, event, format, correlationId);
        }
    }

    /**
     * Injected bytes, sent as they are with {@code EventPublisher.sendRaw}. Arrays are shared, not copied: do not
     * modify them.
     */
    record RawRecord(String topic, byte[] key, byte[] value, long timestamp, List<Header> headers, InjectionKind kind)
            implements PlannedRecord {
        @Override
        public ProducerRecord<byte[], byte[]> toProducerRecord(WireFormat format) {
            return new ProducerRecord<>(topic, null, timestamp, key, value, headers);
        }
    }
}
