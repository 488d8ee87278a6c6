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

    /**
     * For the commands that start their own Kafka and PostgreSQL (demo, chaos, bench): null unless given, and then
     * KAFKA_BOOTSTRAP_SERVERS and JDBC_URL decide before the embedded services do ({@code Services}).
     */
    public static class EmbeddedByDefault {
        @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
                description = "Use this Kafka instead of the embedded broker (env KAFKA_BOOTSTRAP_SERVERS)")
        String bootstrapServers;

        @Option(names = "--jdbc-url", paramLabel = "URL",
                description = "Use this PostgreSQL instead of the embedded one (env JDBC_URL)")
        String jdbcUrl;
    }
}
