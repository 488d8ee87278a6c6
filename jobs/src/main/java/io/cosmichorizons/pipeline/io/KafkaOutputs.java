package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.pipeline.config.CommonConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;

/** Transactional Kafka sinks. */
public final class KafkaOutputs {
    private KafkaOutputs() {}

    /**
     * An EXACTLY_ONCE sink: records are written in a Kafka transaction committed when the checkpoint completes, so
     * read_committed consumers see each record once, and only after the checkpoint. Every sink needs its own
     * transactional id prefix.
     */
    public static <T> KafkaSink<T> exactlyOnce(CommonConfig common, KafkaRecordSerializationSchema<T> serializer,
            String transactionalIdPrefix) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(common.bootstrapServers())
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty("transaction.timeout.ms", String.valueOf(common.transactionTimeout().toMillis()))
                .setProperty("enable.idempotence", "true")
                .setProperty("acks", "all")
                .setProperty("linger.ms", "5")
                .build();
    }

    /**
     * An AT_LEAST_ONCE sink: records are sent as they come (flushed at the latest on each checkpoint), so readers see
     * them without waiting for the checkpoint, and after a restore some may be sent again. Only for outputs whose
     * records carry stable ids that readers deduplicate on (alerts).
     */
    public static <T> KafkaSink<T> atLeastOnce(CommonConfig common, KafkaRecordSerializationSchema<T> serializer) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(common.bootstrapServers())
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setProperty("enable.idempotence", "true")
                .setProperty("acks", "all")
                .setProperty("linger.ms", "5")
                .build();
    }
}
