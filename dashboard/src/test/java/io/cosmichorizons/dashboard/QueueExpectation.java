package io.cosmichorizons.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The queue charts recomputed in Java from every job_status row, independently of the dashboard's SQL: 60 points a
 * minute apart ending at the newest event time; depth = jobs queued at or before a point that had not started (or
 * ended) by then; p95 wait = linear-interpolated 95th percentile (as PostgreSQL's percentile_cont) of queue_wait_ms of
 * the jobs that started in the minute up to the point, in seconds rounded to 0.1.
 */
record QueueExpectation(List<Long> times, List<String> systems, Map<String, List<Long>> depth,
        Map<String, List<Double>> waits) {

    private record Row(String system, Long queuedAt, Long leftQueueAt, Long startedAt, Long queueWaitMs) {}

    static QueueExpectation fromJobStatus(String jdbcUrl) {
        List<Row> rows = new ArrayList<>();
        long newest = Long.MIN_VALUE;
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT hpc_system, queued_at, started_at, ended_at, queue_wait_ms, "
                        + "last_event_at FROM job_status")) {
            while (rs.next()) {
                Long started = millis(rs.getTimestamp(3));
                Long ended = millis(rs.getTimestamp(4));
                long wait = rs.getLong(5);
                rows.add(new Row(rs.getString(1), millis(rs.getTimestamp(2)), started != null ? started : ended,
                        started, rs.wasNull() ? null : wait));
                newest = Math.max(newest, rs.getTimestamp(6).getTime());
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        long asOf = Math.min(newest, System.currentTimeMillis());
        List<Long> points = new ArrayList<>();
        for (int k = 59; k >= 0; k--) {
            points.add(asOf - k * 60_000L);
        }
        TreeSet<String> systems = new TreeSet<>(Comparator.nullsLast(Comparator.naturalOrder()));
        Map<String, List<Long>> depth = new LinkedHashMap<>();
        Map<String, List<Double>> waits = new LinkedHashMap<>();
        for (String system : rows.stream().map(Row::system).collect(() -> new TreeSet<String>(
                Comparator.nullsLast(Comparator.naturalOrder())), TreeSet::add, TreeSet::addAll)) {
            List<Long> d = new ArrayList<>();
            List<Double> w = new ArrayList<>();
            for (long t : points) {
                d.add(rows.stream().filter(r -> Objects.equals(r.system(), system) && r.queuedAt() != null
                        && r.queuedAt() <= t && (r.leftQueueAt() == null || r.leftQueueAt() > t)).count());
                List<Long> started = rows.stream().filter(r -> Objects.equals(r.system(), system)
                        && r.startedAt() != null && r.startedAt() > t - 60_000L && r.startedAt() <= t
                        && r.queueWaitMs() != null).map(Row::queueWaitMs).sorted().toList();
                w.add(started.isEmpty() ? null : Math.round(percentile(started, 0.95) / 100.0) / 10.0);
            }
            if (d.stream().anyMatch(v -> v > 0) || w.stream().anyMatch(Objects::nonNull)) {
                systems.add(system);
                depth.put(system, d);
                waits.put(system, w);
            }
        }
        return new QueueExpectation(points.stream().map(t -> t / 1000).toList(), new ArrayList<>(systems), depth,
                waits);
    }

    private static double percentile(List<Long> sorted, double p) {
        double position = p * (sorted.size() - 1);
        int lower = (int) Math.floor(position);
        int upper = (int) Math.ceil(position);
        return sorted.get(lower) + (position - lower) * (sorted.get(upper) - sorted.get(lower));
    }

    /** Whether the dashboard's served series (snapshot JSON) is exactly this. */
    boolean matches(JsonNode series) {
        if (!times.equals(longs(series.path("times")))) {
            return false;
        }
        List<String> served = new ArrayList<>();
        series.path("systems").forEach(n -> served.add(n.isNull() ? null : n.asText()));
        if (!systems.equals(served)) {
            return false;
        }
        for (int i = 0; i < systems.size(); i++) {
            List<Double> w = new ArrayList<>();
            series.path("waitP95Seconds").path(i).forEach(n -> w.add(n.isNull() ? null : n.asDouble()));
            if (!depth.get(systems.get(i)).equals(longs(series.path("depth").path(i)))
                    || !waits.get(systems.get(i)).equals(w)) {
                return false;
            }
        }
        return true;
    }

    long depthAtEnd(String system) {
        List<Long> d = depth.get(system);
        return d.get(d.size() - 1);
    }

    boolean hasWaits() {
        return waits.values().stream().flatMap(List::stream).anyMatch(Objects::nonNull);
    }

    private static List<Long> longs(JsonNode array) {
        List<Long> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asLong()));
        return out;
    }

    private static Long millis(Timestamp t) {
        return t == null ? null : t.getTime();
    }
}
