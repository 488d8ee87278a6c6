package io.cosmichorizons.dashboard;

import io.cosmichorizons.dashboard.Views.AlertView;
import io.cosmichorizons.dashboard.Views.FailedJob;
import io.cosmichorizons.dashboard.Views.JobCounts;
import io.cosmichorizons.dashboard.Views.NotificationView;
import io.cosmichorizons.dashboard.Views.QueueSeries;
import io.cosmichorizons.dashboard.Views.SystemCounts;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL side: job counts, queue charts and recent failures from job_status, the alerts table (if the metrics
 * job's migration is there) at start-up, and a user's notification history. Every query is read-only. When they run
 * is the server's choice: after commits to job_status ({@link JobStatusChanges}), or on a timer.
 *
 * <p>"The last hour" ends at the newest event time applied to job_status (capped at the wall clock), not at the wall
 * clock: the counts then describe the data the pipeline has processed, also when it lags or replays the past (the
 * demo's generator simulates a day four days ago). The event-time lag in the health panel shows how far that is from
 * now.
 */
final class DatabaseFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DatabaseFeed.class);
    /** Points of the queue charts: one a minute for an hour. */
    static final int CHART_POINTS = 60;

    private static final String REFERENCE = """
            SELECT least(coalesce(max(last_event_at), now()), now()) AS as_of, max(last_event_at) AS newest
            FROM job_status""";

    static final String COUNTS_SQL = """
            WITH ref AS (%s)
            SELECT ref.as_of, ref.newest, j.hpc_system,
                   count(*) FILTER (WHERE j.status = 'SUBMITTED') AS submitted,
                   count(*) FILTER (WHERE j.status = 'QUEUED') AS queued,
                   count(*) FILTER (WHERE j.status = 'RUNNING') AS running,
                   count(*) FILTER (WHERE j.status = 'COMPLETED' AND j.ended_at > ref.as_of - interval '1 hour') AS completed,
                   count(*) FILTER (WHERE j.status = 'FAILED' AND j.ended_at > ref.as_of - interval '1 hour') AS failed,
                   count(*) FILTER (WHERE j.status = 'CANCELLED' AND j.ended_at > ref.as_of - interval '1 hour') AS cancelled
            FROM ref
            LEFT JOIN job_status j
                   ON j.status IN ('SUBMITTED', 'QUEUED', 'RUNNING') OR j.ended_at > ref.as_of - interval '1 hour'
            GROUP BY ref.as_of, ref.newest, j.hpc_system
            ORDER BY j.hpc_system NULLS LAST""".formatted(REFERENCE);

    /** Queue depth at each point: jobs queued at or before it that had not started (or ended) by then. */
    static final String DEPTH_SQL = """
            WITH ref AS (SELECT ?::timestamptz AS as_of),
                 points AS (SELECT k, ref.as_of - make_interval(mins => k) AS t
                            FROM ref, generate_series(0, %d) AS k),
                 queued AS (SELECT j.hpc_system, j.queued_at, coalesce(j.started_at, j.ended_at) AS left_at
                            FROM job_status j, ref
                            WHERE j.queued_at IS NOT NULL AND j.queued_at <= ref.as_of
                              AND (coalesce(j.started_at, j.ended_at) IS NULL
                                   OR coalesce(j.started_at, j.ended_at) > ref.as_of - interval '%d minutes'))
            SELECT p.k, q.hpc_system, count(*)
            FROM points p JOIN queued q ON q.queued_at <= p.t AND (q.left_at IS NULL OR q.left_at > p.t)
            GROUP BY p.k, q.hpc_system""".formatted(CHART_POINTS - 1, CHART_POINTS - 1);

    /** p95 queue wait of the jobs that started in the minute up to each point. */
    static final String WAIT_SQL = """
            WITH ref AS (SELECT ?::timestamptz AS as_of),
                 points AS (SELECT k, ref.as_of - make_interval(mins => k) AS t
                            FROM ref, generate_series(0, %d) AS k),
                 started AS (SELECT j.hpc_system, j.started_at, j.queue_wait_ms
                             FROM job_status j, ref
                             WHERE j.started_at > ref.as_of - interval '%d minutes' AND j.started_at <= ref.as_of
                               AND j.queue_wait_ms IS NOT NULL)
            SELECT p.k, s.hpc_system, percentile_cont(0.95) WITHIN GROUP (ORDER BY s.queue_wait_ms)
            FROM points p JOIN started s ON s.started_at > p.t - interval '1 minute' AND s.started_at <= p.t
            GROUP BY p.k, s.hpc_system""".formatted(CHART_POINTS - 1, CHART_POINTS);


    static final String FAILURES_SQL = """
            SELECT job_id, user_id, hpc_system, pipeline, error_code, error_message, ended_at
            FROM job_status WHERE status = 'FAILED'
            ORDER BY ended_at DESC NULLS LAST, job_id
            LIMIT 20""";

    private final String jdbcUrl;
    private Connection connection;

    DatabaseFeed(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            Properties p = new Properties();
            p.setProperty("connectTimeout", "5");
            p.setProperty("socketTimeout", "30");
            p.setProperty("ApplicationName", "horizons-dashboard");
            p.setProperty("readOnly", "true");
            connection = DriverManager.getConnection(jdbcUrl, p);
        }
        return connection;
    }

    /** Forgets the connection after an error, so the next query reconnects. */
    void reset() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing a broken connection", e);
            }
            connection = null;
        }
    }

    /** The counts, and the newest event time applied to job_status (null when it is empty). */
    record CountsResult(JobCounts counts, Long newestEventAt) {}

    CountsResult counts() throws SQLException {
        Long asOf = null;
        Long newest = null;
        List<SystemCounts> systems = new ArrayList<>();
        try (PreparedStatement s = connection().prepareStatement(COUNTS_SQL); ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                asOf = millis(rs.getTimestamp(1));
                newest = millis(rs.getTimestamp(2));
                SystemCounts c = new SystemCounts(rs.getString(3), rs.getLong(4), rs.getLong(5), rs.getLong(6),
                        rs.getLong(7), rs.getLong(8), rs.getLong(9));
                if (c.hpcSystem() != null || c.submitted() + c.queued() + c.running() + c.completed() + c.failed()
                        + c.cancelled() > 0) {
                    systems.add(c);
                }
            }
        }
        if (newest == null) {
            return new CountsResult(new JobCounts(null, null, List.of()), null);
        }
        return new CountsResult(new JobCounts(asOf, asOf - 3_600_000L, systems), newest);
    }

    /**
     * The queue charts for the hour up to the newest event time. The reference time is read once and passed to both
     * queries, so their points line up even while job_status changes.
     */
    QueueSeries series() throws SQLException {
        Timestamp asOf;
        try (PreparedStatement s = connection().prepareStatement(REFERENCE); ResultSet rs = s.executeQuery()) {
            rs.next();
            asOf = rs.getTimestamp(2) == null ? null : rs.getTimestamp(1);
        }
        if (asOf == null) {
            return QueueSeries.empty();
        }
        OffsetDateTime reference = asOf.toInstant().atOffset(ZoneOffset.UTC);
        List<Long> times = new ArrayList<>();
        for (int k = CHART_POINTS - 1; k >= 0; k--) {
            times.add(asOf.getTime() - k * 60_000L);
        }
        Map<String, Map<Integer, Long>> depth = new TreeMap<>(NULLS_LAST);
        try (PreparedStatement s = connection().prepareStatement(DEPTH_SQL)) {
            s.setObject(1, reference);
            ResultSet rs = s.executeQuery();
            while (rs.next()) {
                depth.computeIfAbsent(rs.getString(2), k -> new LinkedHashMap<>()).put(rs.getInt(1), rs.getLong(3));
            }
        }
        Map<String, Map<Integer, Double>> wait = new TreeMap<>(NULLS_LAST);
        try (PreparedStatement s = connection().prepareStatement(WAIT_SQL)) {
            s.setObject(1, reference);
            ResultSet rs = s.executeQuery();
            while (rs.next()) {
                wait.computeIfAbsent(rs.getString(2), k -> new LinkedHashMap<>()).put(rs.getInt(1),
                        Math.round(rs.getDouble(3) / 100.0) / 10.0);
            }
        }
        if (depth.isEmpty() && wait.isEmpty()) {
            return QueueSeries.empty();
        }
        TreeSet<String> systems = new TreeSet<>(NULLS_LAST);
        systems.addAll(depth.keySet());
        systems.addAll(wait.keySet());
        List<List<Long>> depthRows = new ArrayList<>();
        List<List<Double>> waitRows = new ArrayList<>();
        for (String system : systems) {
            Map<Integer, Long> d = depth.getOrDefault(system, Map.of());
            Map<Integer, Double> w = wait.getOrDefault(system, Map.of());
            List<Long> depthRow = new ArrayList<>();
            List<Double> waitRow = new ArrayList<>();
            // Point i (oldest first) is k = CHART_POINTS - 1 - i minutes before the reference time.
            for (int i = 0; i < CHART_POINTS; i++) {
                depthRow.add(d.getOrDefault(CHART_POINTS - 1 - i, 0L));
                waitRow.add(w.get(CHART_POINTS - 1 - i));
            }
            depthRows.add(depthRow);
            waitRows.add(waitRow);
        }
        return new QueueSeries(times.stream().map(t -> t / 1000).toList(), new ArrayList<>(systems), depthRows,
                waitRows);
    }

    List<FailedJob> failures() throws SQLException {
        List<FailedJob> out = new ArrayList<>();
        try (PreparedStatement s = connection().prepareStatement(FAILURES_SQL); ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new FailedJob(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), millis(rs.getTimestamp(7))));
            }
        }
        return out;
    }

    /** Whether job_status announces its commits (migration V008), so the dashboard can re-read it only then. */
    boolean triggerInstalled() throws SQLException {
        try (Statement s = connection().createStatement(); ResultSet rs = s.executeQuery("""
                SELECT EXISTS (SELECT 1 FROM pg_trigger
                               WHERE tgrelid = to_regclass('job_status') AND tgname = 'job_status_changed')""")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** Whether the alerts table (migration V003, the metrics job) exists. */
    boolean alertsTableExists() throws SQLException {
        try (PreparedStatement s = connection().prepareStatement("SELECT to_regclass('alerts') IS NOT NULL");
                ResultSet rs = s.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** The open alerts and the most recently resolved ones from the alerts table. */
    List<AlertView> alertsFromTable() throws SQLException {
        String sql = """
                (SELECT * FROM alerts WHERE state = 'OPEN')
                UNION ALL
                (SELECT * FROM alerts WHERE state = 'RESOLVED' ORDER BY resolved_at DESC NULLS LAST LIMIT %d)"""
                .formatted(LiveState.RESOLVED_ALERTS_KEPT);
        List<AlertView> out = new ArrayList<>();
        try (PreparedStatement s = connection().prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new AlertView(rs.getString("alert_id"), rs.getString("alert_type"), rs.getString("severity"),
                        rs.getString("state"), rs.getString("subject"), rs.getString("hpc_system"),
                        rs.getString("message"), doubleOrNull(rs, "value"), doubleOrNull(rs, "threshold"),
                        rs.getTimestamp("opened_at").getTime(), rs.getTimestamp("updated_at").getTime(),
                        millis(rs.getTimestamp("resolved_at"))));
            }
        }
        return out;
    }

    /** A user's latest notifications from the notifications table, newest first. Its own connection: any thread. */
    static List<NotificationView> notificationsOf(String jdbcUrl, String userId, int limit) throws SQLException {
        String sql = """
                SELECT notification_id, job_id, user_id, kind, title, message, pipeline, error_code, error_message,
                       cancel_reason, cancelled_by, channels, occurred_at
                FROM notifications WHERE user_id = ? ORDER BY occurred_at DESC, notification_id LIMIT ?""";
        Properties p = new Properties();
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "10");
        p.setProperty("readOnly", "true");
        List<NotificationView> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl, p); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, userId);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Array channels = rs.getArray(12);
                    List<String> channelNames = channels == null ? List.of()
                            : Arrays.stream((Object[]) channels.getArray()).map(String::valueOf).toList();
                    out.add(new NotificationView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                            rs.getString(10), rs.getString(11), channelNames, rs.getTimestamp(13).getTime()));
                }
            }
        }
        return out;
    }

    private static final java.util.Comparator<String> NULLS_LAST =
            java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder());

    private static Double doubleOrNull(ResultSet rs, String column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? null : v;
    }

    private static Long millis(Timestamp t) {
        return t == null ? null : t.getTime();
    }

    @Override
    public void close() {
        reset();
    }
}
