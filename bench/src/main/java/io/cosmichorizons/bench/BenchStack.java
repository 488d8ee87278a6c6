package io.cosmichorizons.bench;

import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.testbed.Services;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.waiting.Poll;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Kafka and PostgreSQL for one bench run: the embedded ones (PostgreSQL with fsync and synchronous_commit ON) or the
 * external ones given by flags or KAFKA_BOOTSTRAP_SERVERS / JDBC_URL. Every phase gets its own topics (prefix
 * {@code bench-<run>-<phase>-}) and its own migrated database, so phases never see each other's data and an external
 * cluster's production topics are never touched; both are deleted at the end unless kept.
 */
final class BenchStack implements AutoCloseable {
    private final Services services;
    private final String runId;
    private final Admin admin;
    private final boolean keep;
    private final List<String> databases = new ArrayList<>();
    private final List<String> topics = new ArrayList<>();

    private BenchStack(Services services, String runId, boolean keep) {
        this.services = services;
        this.runId = runId;
        this.keep = keep;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, services.bootstrapServers());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        this.admin = Admin.create(p);
    }

    static BenchStack start(String bootstrapServers, String jdbcUrl, Path dataDir, boolean keep) {
        Services services = Services.builder()
                .bootstrapServers(bootstrapServers)
                .jdbcUrl(jdbcUrl)
                .durablePostgres(true) // the benchmark measures with durable commits; see durability()
                .dataDirectory(dataDir)
                .keepData(false)
                .start();
        String runId = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
        return new BenchStack(services, runId, keep);
    }

    Services services() {
        return services;
    }

    String bootstrapServers() {
        return services.bootstrapServers();
    }

    Admin admin() {
        return admin;
    }

    String runId() {
        return runId;
    }

    /** A new database with every migration applied; returns its JDBC URL. */
    String newDatabase(String phase) throws SQLException {
        String name = ("horizons_bench_" + runId + "_" + phase).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        try (Connection c = DriverManager.getConnection(services.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        databases.add(name);
        String url = JdbcUrls.withDatabase(services.jdbcUrl(), name);
        Migrations.migrate(url, line -> {});
        return url;
    }

    /** Every platform topic under a new prefix, created with the production partition counts. */
    TopicSet newTopics(String phase) throws Exception {
        TopicSet set = new TopicSet("bench-" + runId + "-" + phase + "-");
        List<NewTopic> create = new ArrayList<>();
        for (Topics.TopicSpec spec : Topics.ALL) {
            create.add(new NewTopic(set.prefix() + spec.name(), spec.partitions(), (short) 1).configs(spec.configs()));
        }
        create.add(new NewTopic(set.empty(), Topics.INPUT_PARTITIONS, (short) 1));
        admin.createTopics(create).all().get();
        create.forEach(t -> topics.add(t.name()));
        awaitLeaders(create.stream().map(NewTopic::name).toList());
        return set;
    }

    /** Waits until every partition of {@code names} has a leader, so the first sends do not wait for metadata. */
    private void awaitLeaders(List<String> names) throws Exception {
        boolean ready = Poll.until(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
            try {
                return admin.describeTopics(names).allTopicNames().get().values().stream()
                        .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while describing topics " + names, e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("Cannot describe topics " + names, e);
            }
        });
        if (!ready) {
            if (Thread.interrupted()) {
                throw new InterruptedException("Interrupted while waiting for leaders of topics " + names);
            }
            throw new IllegalStateException("Topics " + names + " have partitions without a leader after 60 s");
        }
    }

    /**
     * The server's durability settings as it reports them (SHOW), e.g. fsync=on. The embedded server is started with
     * fsync, synchronous_commit and full_page_writes on; an external server is reported as it is.
     */
    Map<String, String> durability() throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(services.jdbcUrl()); Statement s = c.createStatement()) {
            for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
                    "server_version")) {
                try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
                    rs.next();
                    out.put(setting, rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Rows of the alerts table of the phase database at {@code jdbcUrl}, by "TYPE STATE", in order. */
    static Map<String, Long> alertCounts(String jdbcUrl) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT alert_type, state, count(*) FROM alerts GROUP BY 1, 2 ORDER BY 1, 2")) {
            while (rs.next()) {
                out.put(rs.getString(1) + " " + rs.getString(2), rs.getLong(3));
            }
        }
        return out;
    }

    /** Where the services come from, one line each. */
    List<String> summary() {
        return services.summary();
    }

    @Override
    public void close() {
        if (!keep) {
            try {
                if (!topics.isEmpty()) {
                    admin.deleteTopics(topics).all().get();
                }
            } catch (Exception e) {
                System.err.println("Could not delete the bench topics: " + e.getMessage());
            }
            try (Connection c = DriverManager.getConnection(services.jdbcUrl()); Statement s = c.createStatement()) {
                for (String db : databases) {
                    s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                }
            } catch (SQLException e) {
                System.err.println("Could not drop the bench databases: " + e.getMessage());
            }
        }
        admin.close();
        services.close();
    }

    /** The topics of one phase. */
    record TopicSet(String prefix) {
        TopicNames inputs() {
            return TopicNames.defaults().withPrefix(prefix);
        }

        String lifecycle() {
            return prefix + Topics.JOB_LIFECYCLE;
        }

        String notifications() {
            return prefix + Topics.JOB_NOTIFICATIONS;
        }

        String alerts() {
            return prefix + Topics.SYSTEM_ALERTS;
        }

        /** An input topic that stays empty: the audit job's audit-trail input when only lifecycle events are wanted. */
        String empty() {
            return prefix + "empty";
        }

        /** The jobs' topic settings pointing at this set. */
        Map<String, String> settings() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("topics.lifecycle", lifecycle());
            s.put("topics.metrics", prefix + Topics.JOB_METRICS);
            s.put("topics.audit-trail", prefix + Topics.AUDIT_TRAIL);
            s.put("topics.preferences", prefix + Topics.NOTIFICATION_PREFERENCES);
            s.put("topics.notifications", notifications());
            s.put("topics.alerts", alerts());
            s.put("topics.metrics-aggregates", prefix + Topics.METRICS_AGGREGATES);
            s.put("topics.dead-letters", prefix + Topics.DEAD_LETTERS);
            return s;
        }
    }
}
