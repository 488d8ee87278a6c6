package io.cosmichorizons.testbed;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JUnit 5 extension: one real Kafka broker and one real PostgreSQL for the whole test JVM.
 *
 * <pre>{@code
 * @ExtendWith(RealServices.class)
 * class FooITCase {
 *     @Test void works() {
 *         String topic = RealServices.uniqueName("foo");
 *         RealServices.createTopic(topic, 2);
 *         ... RealServices.bootstrapServers() ... RealServices.freshDatabase("foo") ...
 *     }
 * }
 * }</pre>
 *
 * <p>The services start lazily, on the first test class that uses the extension (or the first static helper call), and
 * are stopped when the JUnit run ends (a resource in the root context's store; a JVM shutdown hook as fallback).
 * {@code KAFKA_BOOTSTRAP_SERVERS} and {@code JDBC_URL} select external services instead (see {@link Services}).
 * Tests share the services: each test makes its own topics ({@link #uniqueName(String)}) and databases
 * ({@link #freshDatabase(String)}). A test that kills or stops an embedded service should restart it; the extension
 * also restarts a stopped embedded service before the next test class.
 */
public final class RealServices implements BeforeAllCallback {

    private static final Logger LOG = LoggerFactory.getLogger(RealServices.class);
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RealServices.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(30);

    private static final Object LOCK = new Object();
    private static Shared shared;
    private static RuntimeException startFailure;

    @Override
    public void beforeAll(ExtensionContext context) {
        Shared s = shared();
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(StoreResource.class, k -> new StoreResource(),
                StoreResource.class);
        s.services.kafka().filter(k -> !k.isRunning()).ifPresent(k -> {
            LOG.warn("The embedded Kafka broker is not running (a previous test stopped it); restarting it");
            k.start();
        });
        s.services.postgres().filter(p -> !p.isRunning()).ifPresent(p -> {
            LOG.warn("The embedded PostgreSQL is not running (a previous test stopped it); restarting it");
            p.start();
        });
    }

    // --- static helpers ----------------------------------------------------------------------------------------------

    /** The Kafka bootstrap servers, e.g. {@code 127.0.0.1:40123}. */
    public static String bootstrapServers() {
        return shared().services.bootstrapServers();
    }

    /** The JDBC URL of the {@code horizons} database (user and password included). */
    public static String jdbcUrl() {
        return shared().services.jdbcUrl();
    }

    public static ServiceEndpoints endpoints() {
        return shared().services.endpoints();
    }

    /** A new connection to {@link #jdbcUrl()}; the caller closes it. */
    public static Connection newConnection() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    /** The embedded broker, or empty when {@code KAFKA_BOOTSTRAP_SERVERS} points at an external one. */
    public static Optional<EmbeddedKafka> kafka() {
        return shared().services.kafka();
    }

    /** The embedded PostgreSQL, or empty when {@code JDBC_URL} points at an external one. */
    public static Optional<EmbeddedPostgresServer> postgres() {
        return shared().services.postgres();
    }

    /** A shared admin client for {@link #bootstrapServers()}; do not close it. */
    public static Admin admin() {
        return shared().admin();
    }

    /** {@code prefix} plus {@code _} and 10 random lowercase letters/digits: a valid topic, schema or table name. */
    public static String uniqueName(String prefix) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(prefix).append('_');
        for (int i = 0; i < 10; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** Creates a topic (if it does not exist) and waits until every partition has a leader. */
    public static void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** Like {@link #createTopic(String, int)}, with topic configs (e.g. {@code cleanup.policy=compact}). */
    public static void createTopic(String name, int partitions, Map<String, String> configs) {
        Admin admin = admin();
        long deadline = System.nanoTime() + TOPIC_TIMEOUT.toNanos();
        NewTopic topic = new NewTopic(name, Optional.of(partitions), Optional.empty()).configs(configs);
        try {
            admin.createTopics(List.of(topic)).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("Could not create topic " + name, e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topic " + name, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Creating topic " + name + " timed out", e);
        }
        Exception last = null;
        while (System.nanoTime() - deadline < 0) {
            try {
                TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames()
                        .get(5, TimeUnit.SECONDS).get(name);
                if (d != null && d.partitions().size() >= partitions
                        && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    last = e;
                }
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for topic " + name, e);
            }
            sleep(50);
        }
        throw new IllegalStateException("Topic " + name + " did not get leaders for " + partitions + " partitions within "
                + TOPIC_TIMEOUT.toSeconds() + " s", last);
    }

    /**
     * Creates a new empty database named {@code prefix_<random>} (lowercased, owned by {@code horizons} when
     * PostgreSQL is embedded) and returns its JDBC URL (same user and password as {@link #jdbcUrl()}). With an external
     * {@code JDBC_URL} its user needs the CREATEDB privilege.
     */
    public static String freshDatabase(String prefix) {
        String safePrefix = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        // PostgreSQL identifiers have at most 63 bytes; uniqueName adds 11 characters.
        String name = uniqueName(safePrefix.substring(0, Math.min(safePrefix.length(), 52)));
        Shared s = shared();
        Optional<EmbeddedPostgresServer> pg = s.services.postgres();
        String adminUrl = pg.map(EmbeddedPostgresServer::adminJdbcUrl).orElse(s.services.jdbcUrl());
        String sql = "CREATE DATABASE \"" + name + "\"" + (pg.isPresent() ? " OWNER " + EmbeddedPostgresServer.USER : "");
        try (Connection c = DriverManager.getConnection(adminUrl); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create database " + name + " (" + sql + ")", e);
        }
        return JdbcUrls.withDatabase(s.services.jdbcUrl(), name);
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------------

    private static Shared shared() {
        synchronized (LOCK) {
            if (shared != null) {
                return shared;
            }
            if (startFailure != null) {
                throw new IllegalStateException("The real services failed to start earlier in this JVM: "
                        + startFailure.getMessage(), startFailure);
            }
            long t0 = System.nanoTime();
            try {
                Services services = Services.fromEnvironment();
                shared = new Shared(services);
            } catch (RuntimeException e) {
                startFailure = e;
                throw e;
            }
            LOG.info("Real services for tests ready in {} ms: {}",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), shared.services.endpoints());
            Thread hook = new Thread(RealServices::shutdown, "real-services-shutdown");
            shared.hook = hook;
            Runtime.getRuntime().addShutdownHook(hook);
            return shared;
        }
    }

    /** Stops the shared services (the next use starts new ones). */
    static void shutdown() {
        Shared s;
        synchronized (LOCK) {
            s = shared;
            shared = null;
        }
        if (s != null) {
            s.close();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }

    /** Closes the shared services when the JUnit root context closes, i.e. at the end of the test run. */
    private static final class StoreResource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            shutdown();
        }
    }

    private static final class Shared {
        final Services services;
        private Admin admin;
        Thread hook;

        Shared(Services services) {
            this.services = services;
        }

        synchronized Admin admin() {
            if (admin == null) {
                Properties p = new Properties();
                p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, services.bootstrapServers());
                p.put(AdminClientConfig.CLIENT_ID_CONFIG, "horizons-real-services");
                p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
                admin = Admin.create(p);
            }
            return admin;
        }

        void close() {
            synchronized (this) {
                if (admin != null) {
                    admin.close(Duration.ofSeconds(5));
                    admin = null;
                }
            }
            if (hook != null && Thread.currentThread() != hook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs anyway; closing twice is harmless
                }
            }
            services.close();
        }
    }
}
