package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.pipeline.io.EnvelopeDeserializer;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes the compacted notification-preferences topic. A tombstone (a key with no value) means "back to the
 * defaults", so it becomes a default preference rather than a dead letter.
 */
public final class PreferenceDeserializer implements KafkaRecordDeserializationSchema<InputEnvelope> {
    private static final long serialVersionUID = 1L;

    private final EnvelopeDeserializer delegate;

    public PreferenceDeserializer(CommonConfig common) {
        this.delegate = new EnvelopeDeserializer(
                new EventDecoder(EventKind.PREFERENCES, common.maxRecordBytes(), common.maxClockSkew()));
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputEnvelope> out) {
        if (record.value() == null && record.key() != null) {
            String user = new String(record.key(), StandardCharsets.UTF_8);
            NotificationPreference defaults = NotificationPreference.newBuilder()
                    .setUserId(user)
                    .setChannels(List.copyOf(Notifications.DEFAULT_CHANNELS))
                    .setMuted(false)
                    .setUpdatedAt(Instant.ofEpochMilli(record.timestamp()))
                    .build();
            SourceRecord source = SourceRecord.newBuilder()
                    .setTopic(record.topic()).setPartition(record.partition()).setOffset(record.offset())
                    .setTimestamp(Instant.ofEpochMilli(record.timestamp()))
                    .setKey(ByteBuffer.wrap(record.key())).setValue(null)
                    .build();
            out.collect(InputEnvelope.newBuilder().setSource(source).setEvent(defaults).build());
            return;
        }
        delegate.deserialize(record, out);
    }

    @Override
    public TypeInformation<InputEnvelope> getProducedType() {
        return delegate.getProducedType();
    }
}
