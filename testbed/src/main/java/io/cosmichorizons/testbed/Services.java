package io.cosmichorizons.testbed;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka and PostgreSQL for the demo and the tests: external ones when asked for, embedded ones otherwise.
 *
 * <p>For each service, in order of precedence: an explicit override (the CLI's {@code --bootstrap-servers} and
 * {@code --jdbc-url}), then the environment variable ({@code KAFKA_BOOTSTRAP_SERVERS}, {@code JDBC_URL}), then an
 * embedded {@link EmbeddedKafka} / {@link EmbeddedPostgresServer} started here. The two embedded services start in
 * parallel. {@link #close()} stops what was started here and leaves external services alone.
 *
 * <pre>{@code
 * try (Services services = Services.builder().bootstrapServers(cliFlagOrNull).kafkaPort(9092).start()) {
 *     ServiceEndpoints endpoints = services.endpoints();
 * }
 * }</pre>
 */
public final class Services implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Services.class);

    public static final String KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String JDBC_ENV = "JDBC_URL";

    private final ServiceEndpoints endpoints;
    private final EmbeddedKafka kafka;
    private final EmbeddedPostgresServer postgres;
    private final List<String> summary;

    private Services(ServiceEndpoints endpoints, EmbeddedKafka kafka, EmbeddedPostgresServer postgres,
                     List<String> summary) {
        this.endpoints = endpoints;
        this.kafka = kafka;
        this.postgres = postgres;
        this.summary = List.copyOf(summary);
    }

    /** External services from {@code KAFKA_BOOTSTRAP_SERVERS} / {@code JDBC_URL}, embedded ones (random ports) otherwise. */
    public static Services fromEnvironment() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    public ServiceEndpoints endpoints() {
        return endpoints;
    }

    public String bootstrapServers() {
        return endpoints.bootstrapServers();
    }

    public String jdbcUrl() {
        return endpoints.jdbcUrl();
    }

    /** The embedded broker, or empty when Kafka is external. */
    public Optional<EmbeddedKafka> kafka() {
        return Optional.ofNullable(kafka);
    }

    /** The embedded PostgreSQL, or empty when PostgreSQL is external. */
    public Optional<EmbeddedPostgresServer> postgres() {
        return Optional.ofNullable(postgres);
    }

    /** One line per service, as logged at start, e.g. "Kafka: external at kafka:9092 (KAFKA_BOOTSTRAP_SERVERS)". */
    public List<String> summary() {
        return summary;
    }

    /** Stops the embedded services (external ones are left alone). */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable c : new AutoCloseable[] {kafka, postgres}) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("Closing the embedded services failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Where a service comes from: an external address (with the name of what gave it) or null for embedded. */
    record Choice(String value, String origin) {
        boolean external() {
            return value != null;
        }
    }

    /** Override (if not blank) wins over the environment variable (if not blank); otherwise embedded. */
    static Choice choose(String override, String overrideName, String envName, Function<String, String> env) {
        if (override != null && !override.isBlank()) {
            return new Choice(override.trim(), overrideName);
        }
        String fromEnv = env.apply(envName);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new Choice(fromEnv.trim(), envName);
        }
        return new Choice(null, "embedded");
    }

    /** Options for {@link Services}. */
    public static final class Builder {
        private String bootstrapServersOverride;
        private String jdbcUrlOverride;
        private Function<String, String> env = System::getenv;
        private int kafkaPort = 0;
        private int postgresPort = 0;
        private Path dataDir;
        private Boolean keepData;
        private boolean durablePostgres;
        private Duration startupTimeout = EmbeddedKafka.DEFAULT_STARTUP_TIMEOUT;
        private Consumer<EmbeddedKafka.Builder> kafkaCustomizer = b -> { };
        private Consumer<EmbeddedPostgresServer.Builder> postgresCustomizer = b -> { };

        private Builder() {
        }

        /** Use this Kafka (e.g. from {@code --bootstrap-servers}); null or blank means "not given". */
        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServersOverride = bootstrapServers;
            return this;
        }

        /** Use this PostgreSQL (e.g. from {@code --jdbc-url}); null or blank means "not given". */
        public Builder jdbcUrl(String jdbcUrl) {
            this.jdbcUrlOverride = jdbcUrl;
            return this;
        }

        /** Where environment variables are read from (default {@link System#getenv(String)}); for tests. */
        public Builder environment(Function<String, String> env) {
            this.env = Objects.requireNonNull(env);
            return this;
        }

        public Builder environment(Map<String, String> env) {
            Map<String, String> copy = Map.copyOf(env);
            return environment(copy::get);
        }

        /** The embedded broker's port; 0 (default) picks a free one. The demo passes 9092. */
        public Builder kafkaPort(int port) {
            this.kafkaPort = port;
            return this;
        }

        /**
         * The embedded PostgreSQL port; 0 (default) picks a free one. For "5432 unless taken" pass
         * {@code Ports.preferredOrFree(5432)}.
         */
        public Builder postgresPort(int port) {
            this.postgresPort = port;
            return this;
        }

        /**
         * A root directory for the embedded services' data ({@code kafka/} and {@code postgres/} inside); kept on
         * close unless {@code keepData(false)}. Default: temporary directories, deleted on close.
         */
        public Builder dataDirectory(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder keepData(boolean keepData) {
            this.keepData = keepData;
            return this;
        }

        /** See {@link EmbeddedPostgresServer.Builder#durable(boolean)}. */
        public Builder durablePostgres(boolean durable) {
            this.durablePostgres = durable;
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Further settings for the embedded broker, applied after the ones above. */
        public Builder configureKafka(Consumer<EmbeddedKafka.Builder> customizer) {
            this.kafkaCustomizer = Objects.requireNonNull(customizer);
            return this;
        }

        /** Further settings for the embedded PostgreSQL, applied after the ones above. */
        public Builder configurePostgres(Consumer<EmbeddedPostgresServer.Builder> customizer) {
            this.postgresCustomizer = Objects.requireNonNull(customizer);
            return this;
        }

        /** Resolves both services, starting the embedded ones in parallel, and logs one line per service. */
        public Services start() {
            Choice kafkaChoice = choose(bootstrapServersOverride, "--bootstrap-servers", KAFKA_ENV, env);
            Choice jdbcChoice = choose(jdbcUrlOverride, "--jdbc-url", JDBC_ENV, env);

            CompletableFuture<EmbeddedKafka> kafkaFuture = kafkaChoice.external()
                    ? CompletableFuture.completedFuture(null) : async("embedded-kafka-start", this::startKafka);
            CompletableFuture<EmbeddedPostgresServer> pgFuture = jdbcChoice.external()
                    ? CompletableFuture.completedFuture(null) : async("embedded-postgres-start", this::startPostgres);

            EmbeddedKafka kafka = null;
            EmbeddedPostgresServer postgres = null;
            RuntimeException failure = null;
            try {
                kafka = kafkaFuture.get();
            } catch (InterruptedException | ExecutionException e) {
                failure = asRuntime(e);
            }
            try {
                postgres = pgFuture.get();
            } catch (InterruptedException | ExecutionException e) {
                RuntimeException f = asRuntime(e);
                if (failure == null) {
                    failure = f;
                } else {
                    failure.addSuppressed(f);
                }
            }
            if (failure != null) {
                if (kafka != null) {
                    kafka.close();
                }
                if (postgres != null) {
                    postgres.close();
                }
                throw failure;
            }

            List<String> summary = new ArrayList<>();
            if (kafka != null) {
                summary.add(String.format("Kafka: embedded KRaft broker at %s (data: %s, ready in %.1f s)",
                        kafka.bootstrapServers(), kafka.dataDirectory(),
                        kafka.lastStartupDuration().toMillis() / 1000.0));
            } else {
                summary.add("Kafka: external at " + kafkaChoice.value() + " (" + kafkaChoice.origin() + ")");
            }
            if (postgres != null) {
                summary.add(String.format("PostgreSQL: embedded at 127.0.0.1:%d, database %s (data: %s, ready in %.1f s)",
                        postgres.port(), EmbeddedPostgresServer.DATABASE, postgres.dataDirectory(),
                        postgres.lastStartupDuration().toMillis() / 1000.0));
            } else {
                summary.add("PostgreSQL: external at " + JdbcUrls.redact(jdbcChoice.value()) + " ("
                        + jdbcChoice.origin() + ")");
            }
            summary.forEach(LOG::info);

            ServiceEndpoints endpoints = new ServiceEndpoints(
                    kafka != null ? kafka.bootstrapServers() : kafkaChoice.value(),
                    postgres != null ? postgres.jdbcUrl() : jdbcChoice.value());
            return new Services(endpoints, kafka, postgres, summary);
        }

        private EmbeddedKafka startKafka() {
            EmbeddedKafka.Builder b = EmbeddedKafka.builder().port(kafkaPort).startupTimeout(startupTimeout);
            if (dataDir != null) {
                b.dataDirectory(dataDir.resolve("kafka"));
            }
            if (keepData != null) {
                b.keepData(keepData);
            }
            kafkaCustomizer.accept(b);
            return b.start();
        }

        private EmbeddedPostgresServer startPostgres() {
            EmbeddedPostgresServer.Builder b = EmbeddedPostgresServer.builder().port(postgresPort)
                    .durable(durablePostgres).startupTimeout(startupTimeout);
            if (dataDir != null) {
                b.dataDirectory(dataDir.resolve("postgres"));
            }
            if (keepData != null) {
                b.keepData(keepData);
            }
            postgresCustomizer.accept(b);
            return b.start();
        }

        private static <T> CompletableFuture<T> async(String threadName, Supplier<T> task) {
            CompletableFuture<T> future = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    future.complete(task.get());
                } catch (Throwable e) {
                    future.completeExceptionally(e);
                }
            }, threadName);
            t.setDaemon(true);
            t.start();
            return future;
        }

        private static RuntimeException asRuntime(Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                return new IllegalStateException("Interrupted while starting the embedded services", e);
            }
            Throwable cause = e.getCause() instanceof CompletionException && e.getCause().getCause() != null
                    ? e.getCause().getCause() : e.getCause();
            if (cause instanceof RuntimeException re) {
                return re;
            }
            return new IllegalStateException("Starting an embedded service failed", cause);
        }
    }
}
