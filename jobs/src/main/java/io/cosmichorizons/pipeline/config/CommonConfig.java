package io.cosmichorizons.pipeline.config;

import io.cosmichorizons.topics.Topics;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * Settings every pipeline job shares: where Kafka and PostgreSQL are, checkpointing, parallelism, and the shared
 * topics. Each job's own config class adds its settings on top.
 */
public record CommonConfig(
        String bootstrapServers,
        String jdbcUrl,
        String deadLetterTopic,
        Duration checkpointInterval,
        Duration checkpointTimeout,
        int parallelism,
        int maxParallelism,
        Duration transactionTimeout,
        int maxRecordBytes,
        Duration maxClockSkew,
        int jdbcBatchSize,
        Duration jdbcBatchInterval,
        boolean useRocksDb,
        String checkpointDir)
        implements Serializable {

    public static final List<Option> OPTIONS = List.of(
            new Option(Settings.KAFKA_BOOTSTRAP_SERVERS, "localhost:9092", "Kafka bootstrap servers; env KAFKA_BOOTSTRAP_SERVERS"),
            new Option(Settings.JDBC_URL, "jdbc:postgresql://localhost:5432/horizons?user=horizons&password=horizons",
                    "PostgreSQL JDBC URL, credentials included; env JDBC_URL"),
            new Option("topics.dead-letters", Topics.DEAD_LETTERS, "Dead-letter topic"),
            new Option("checkpoint.interval", "10s", "Exactly-once checkpoint interval; outputs become visible to read_committed readers at this pace"),
            new Option("checkpoint.timeout", "5m", "A checkpoint that takes longer is aborted"),
            new Option("parallelism", "cluster default", "Operator parallelism"),
            new Option("max-parallelism", "128", "Max parallelism (number of key groups); fixed for the life of the job's state"),
            new Option("kafka.transaction-timeout", "10m", "Kafka transaction timeout of exactly-once sinks; must be below the broker's transaction.max.timeout.ms (15m default) and above checkpoint interval + restart time"),
            new Option("decoder.max-record-bytes", "1048576", "Larger input records are dead-lettered as TOO_LARGE"),
            new Option("decoder.max-clock-skew", "30d", "Event times further than this from the Kafka record timestamp are dead-lettered as INVALID_VALUE"),
            new Option("jdbc.batch-size", "500", "Rows per JDBC batch"),
            new Option("jdbc.batch-interval", "200ms", "Longest a row waits in a JDBC batch"),
            new Option("state.rocksdb", "false", "Use the RocksDB state backend, with incremental checkpoints and bloom filters (recommended on a cluster; flink-conf/config.yaml sets it there)"),
            new Option("checkpoint.dir", "none", "Checkpoint storage URI, e.g. file:///var/flink/checkpoints; the cluster's config.yaml usually sets it"));

    public static CommonConfig from(Settings s) {
        return new CommonConfig(
                s.get(Settings.KAFKA_BOOTSTRAP_SERVERS, "localhost:9092"),
                s.get(Settings.JDBC_URL, "jdbc:postgresql://localhost:5432/horizons?user=horizons&password=horizons"),
                s.get("topics.dead-letters", Topics.DEAD_LETTERS),
                s.getDuration("checkpoint.interval", Duration.ofSeconds(10)),
                s.getDuration("checkpoint.timeout", Duration.ofMinutes(5)),
                s.getInt("parallelism", -1),
                s.getInt("max-parallelism", 128),
                s.getDuration("kafka.transaction-timeout", Duration.ofMinutes(10)),
                s.getInt("decoder.max-record-bytes", 1024 * 1024),
                s.getDuration("decoder.max-clock-skew", Duration.ofDays(30)),
                s.getInt("jdbc.batch-size", 500),
                s.getDuration("jdbc.batch-interval", Duration.ofMillis(200)),
                s.getBoolean("state.rocksdb", false),
                s.get("checkpoint.dir", null));
    }
}
