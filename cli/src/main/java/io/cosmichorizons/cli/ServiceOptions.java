package io.cosmichorizons.cli;

import picocli.CommandLine.Option;

/**
 * Where Kafka and PostgreSQL are. Flags win over the environment variables KAFKA_BOOTSTRAP_SERVERS and JDBC_URL,
 * which win over the defaults.
 */
public class ServiceOptions {
    static final String DEFAULT_BOOTSTRAP = "localhost:9092";
    static final String DEFAULT_JDBC = "jdbc:postgresql://localhost:5432/horizons?user=horizons&password=horizons";

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; default ${DEFAULT-VALUE})",
            defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-" + DEFAULT_BOOTSTRAP + "}")
    String bootstrapServers;

    @Option(names = "--jdbc-url", paramLabel = "URL",
            description = "PostgreSQL JDBC URL with credentials (env JDBC_URL; default ${DEFAULT-VALUE})",
            defaultValue = "${env:JDBC_URL:-" + DEFAULT_JDBC + "}")
    String jdbcUrl;
}
