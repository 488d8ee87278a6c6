package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.pipeline.config.CommonConfig;
import java.sql.Timestamp;
import java.time.Instant;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;

/** JDBC connection and batching options shared by the PostgreSQL sinks. */
public final class Jdbc {
    private Jdbc() {}

    public static JdbcConnectionOptions connection(CommonConfig common) {
        return new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
                .withUrl(common.jdbcUrl())
                .withDriverName("org.postgresql.Driver")
                .withConnectionCheckTimeoutSeconds(30)
                .build();
    }

    public static JdbcExecutionOptions batching(CommonConfig common) {
        return JdbcExecutionOptions.builder()
                .withBatchSize(common.jdbcBatchSize())
                .withBatchIntervalMs(common.jdbcBatchInterval().toMillis())
                // Retrying is safe because every statement is an idempotent upsert.
                .withMaxRetries(5)
                .build();
    }

    public static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
