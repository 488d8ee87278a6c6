package io.cosmichorizons.verification;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import io.cosmichorizons.topics.Topics;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every output of the pipelines, read once: the PostgreSQL tables and the committed (read_committed) records of the
 * output topics. A plain value, so a test can plant faults in a copy ({@link #withTable}, {@link #withNotifications})
 * and show that the comparison reports them.
 *
 * <p>Table rows are column name to value, with timestamps as epoch milliseconds, {@code bytea} as lowercase hex and
 * arrays as lists.
 *
 * @param tables rows of job_status, notifications, audit_events (without MAC and key id), job_metrics_1m,
 *     job_summary, fleet_stats_1m and alerts (id, type, subject, state, opened_at, resolved_at)
 * @param chainVerification the rows of PostgreSQL's own {@code audit_verify(key)}, an implementation of the chain
 *     rules in SQL that shares no code with the audit job
 */
public record OutputSnapshot(Map<String, List<Map<String, Object>>> tables, List<Notification> notifications,
        List<DeadLetter> deadLetters, List<MetricsAggregate> aggregates, List<Alert> alerts,
        List<Map<String, Object>> chainVerification) {

    public static final String JOB_STATUS = "job_status";
    public static final String NOTIFICATIONS = "notifications";
    public static final String AUDIT_EVENTS = "audit_events";
    public static final String JOB_METRICS_1M = "job_metrics_1m";
    public static final String JOB_SUMMARY = "job_summary";
    public static final String FLEET_STATS_1M = "fleet_stats_1m";
    public static final String ALERTS = "alerts";

    private static final Map<String, String> QUERIES = new LinkedHashMap<>();

    static {
        QUERIES.put(JOB_STATUS, "SELECT * FROM job_status");
        QUERIES.put(NOTIFICATIONS, "SELECT notification_id, job_id, user_id, kind, channels FROM notifications");
        QUERIES.put(AUDIT_EVENTS, "SELECT chain_id, seq, chain_time, event_id, event_type, source_topic, source_offset,"
                + " job_id, actor, correlation_id, occurred_at, kafka_timestamp, payload, prev_hash, hash FROM audit_events");
        QUERIES.put(JOB_METRICS_1M, "SELECT * FROM job_metrics_1m");
        QUERIES.put(JOB_SUMMARY, "SELECT * FROM job_summary");
        QUERIES.put(FLEET_STATS_1M, "SELECT * FROM fleet_stats_1m");
        QUERIES.put(ALERTS, "SELECT alert_id, alert_type, subject, state, opened_at, resolved_at FROM alerts");
    }

    public OutputSnapshot {
        Map<String, List<Map<String, Object>>> copy = new LinkedHashMap<>();
        tables.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        tables = Map.copyOf(copy);
        notifications = List.copyOf(notifications);
        deadLetters = List.copyOf(deadLetters);
        aggregates = List.copyOf(aggregates);
        alerts = List.copyOf(alerts);
        chainVerification = List.copyOf(chainVerification);
    }

    /** Where the outputs are: a database, a broker, and the prefix of the topic names ("" for the defaults). */
    public record Location(String jdbcUrl, String bootstrapServers, String topicPrefix) {
        public String topic(String defaultName) {
            return topicPrefix + defaultName;
        }
    }

    /**
     * Reads every output.
     *
     * @param auditMacKey the audit job's MAC key, for PostgreSQL's audit_verify; null checks hashes and links only
     */
    public static OutputSnapshot read(Location where, byte[] auditMacKey) throws SQLException {
        Map<String, List<Map<String, Object>>> tables = new LinkedHashMap<>();
        List<Map<String, Object>> verification;
        try (Connection c = DriverManager.getConnection(where.jdbcUrl())) {
            for (Map.Entry<String, String> q : QUERIES.entrySet()) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(q.getValue())) {
                    tables.put(q.getKey(), rows(rs));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM audit_verify(?)")) {
                ps.setBytes(1, auditMacKey);
                try (ResultSet rs = ps.executeQuery()) {
                    verification = rows(rs);
                }
            }
        }
        return new OutputSnapshot(tables,
                read(where, Topics.JOB_NOTIFICATIONS, Notification.class, Notification.getClassSchema()),
                read(where, Topics.DEAD_LETTERS, DeadLetter.class, DeadLetter.getClassSchema()),
                read(where, Topics.METRICS_AGGREGATES, MetricsAggregate.class, MetricsAggregate.getClassSchema()),
                read(where, Topics.SYSTEM_ALERTS, Alert.class, Alert.getClassSchema()),
                verification);
    }

    public List<Map<String, Object>> table(String name) {
        return tables.getOrDefault(name, List.of());
    }

    /** A copy with a table's rows replaced. */
    public OutputSnapshot withTable(String name, List<Map<String, Object>> rows) {
        Map<String, List<Map<String, Object>>> copy = new HashMap<>(tables);
        copy.put(name, rows);
        return new OutputSnapshot(copy, notifications, deadLetters, aggregates, alerts, chainVerification);
    }

    /** A copy with the committed notification records replaced. */
    public OutputSnapshot withNotifications(List<Notification> replaced) {
        return new OutputSnapshot(tables, replaced, deadLetters, aggregates, alerts, chainVerification);
    }

    /** A copy with the committed dead letters replaced. */
    public OutputSnapshot withDeadLetters(List<DeadLetter> replaced) {
        return new OutputSnapshot(tables, notifications, replaced, aggregates, alerts, chainVerification);
    }

    /** A copy with the committed alert records replaced. */
    public OutputSnapshot withAlerts(List<Alert> replaced) {
        return new OutputSnapshot(tables, notifications, deadLetters, aggregates, replaced, chainVerification);
    }

    static List<Map<String, Object>> rows(ResultSet rs) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        List<Map<String, Object>> out = new ArrayList<>();
        while (rs.next()) {
            Map<String, Object> row = new HashMap<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                row.put(meta.getColumnName(i), plain(rs.getObject(i)));
            }
            out.add(row);
        }
        return out;
    }

    private static Object plain(Object value) throws SQLException {
        if (value instanceof Timestamp t) {
            return t.toInstant().toEpochMilli();
        }
        if (value instanceof byte[] b) {
            return HexFormat.of().formatHex(b);
        }
        if (value instanceof Array a) {
            List<Object> list = new ArrayList<>();
            for (Object o : (Object[]) a.getArray()) {
                list.add(o);
            }
            return list;
        }
        return value;
    }

    private static <T extends SpecificRecord> List<T> read(Location where, String defaultTopic, Class<T> type,
            Schema schema) {
        List<T> out = new ArrayList<>();
        TopicReader.readAll(where.bootstrapServers(), where.topic(defaultTopic), Duration.ofSeconds(120), r -> {
            try {
                out.add(AvroCodec.decode(r.value(), type, schema));
            } catch (RejectedRecordException e) {
                throw new IllegalStateException(where.topic(defaultTopic) + " holds a record that is not a "
                        + type.getSimpleName() + ": " + e.getMessage(), e);
            }
        });
        return out;
    }
}
