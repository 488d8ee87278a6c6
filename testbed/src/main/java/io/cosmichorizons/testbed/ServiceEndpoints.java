package io.cosmichorizons.testbed;

import java.util.Objects;

/**
 * Where Kafka and PostgreSQL are: a Kafka bootstrap server list and a PostgreSQL JDBC URL (which may carry
 * {@code user} and {@code password} parameters; {@link #toString()} hides the password).
 */
public record ServiceEndpoints(String bootstrapServers, String jdbcUrl) {

    public ServiceEndpoints {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    }

    @Override
    public String toString() {
        return "ServiceEndpoints[bootstrapServers=" + bootstrapServers + ", jdbcUrl=" + JdbcUrls.redact(jdbcUrl) + "]";
    }
}
