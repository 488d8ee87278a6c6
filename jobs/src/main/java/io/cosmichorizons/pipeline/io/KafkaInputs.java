package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.util.List;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Kafka sources of decoded input envelopes. */
public final class KafkaInputs {
    private KafkaInputs() {}

    /**
     * A source that starts from the group's committed offsets, or from the earliest offset when none are committed,
     * and reads with read_committed so that it never sees aborted transactional writes.
     */
    public static KafkaSourceBuilder<InputEnvelope> envelopes(CommonConfig common, EventKind kind, List<String> topics,
            String groupId) {
        EventDecoder decoder = new EventDecoder(kind, common.maxRecordBytes(), common.maxClockSkew());
        return KafkaSource.<InputEnvelope>builder()
                .setBootstrapServers(common.bootstrapServers())
                .setTopics(topics)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new EnvelopeDeserializer(decoder))
                .setProperty("isolation.level", "read_committed")
                // Offsets are committed on checkpoint completion; they are for monitoring (lag) and for starting a
                // fresh job where the last one stopped. Exactly-once comes from the checkpointed offsets.
                .setProperty("commit.offsets.on.checkpoint", "true")
                .setProperty("partition.discovery.interval.ms", "60000")
                .setClientIdPrefix(groupId);
    }
}
