package io.cosmichorizons.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.generator.GroundTruth;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The answers of the analytics views, recomputed in Java from the generator's ground truth (the batch recomputation
 * the views are checked against), and the comparison of a view's or query's rows with them.
 */
final class AnalyticsExpectations {

    private AnalyticsExpectations() {}

    /** An SLA row of analytics_sla. */
    record Sla(String hpcSystem, String queue, Duration maxQueueWait, Duration walltimeGrace) {}

    static final Sla DEFAULT_SLA = new Sla("*", "*", Duration.ofHours(1), Duration.ofMinutes(15));

    /** analytics_pipeline_failures, keyed by pipeline. */
    static Map<String, List<Object>> pipelineFailures(GroundTruth truth) {
        Map<String, List<GroundTruth.Job>> byPipeline = truth.jobs().stream()
                .collect(Collectors.groupingBy(j -> j.pipeline() == null ? "(none)" : j.pipeline(), TreeMap::new, Collectors.toList()));
        Map<String, List<Object>> out = new TreeMap<>();
        byPipeline.forEach((pipeline, jobs) -> {
            long completed = count(jobs, LifecycleEventType.COMPLETED);
            long failed = count(jobs, LifecycleEventType.FAILED);
            long cancelled = count(jobs, LifecycleEventType.CANCELLED);
            Map<String, Long> errors = jobs.stream()
                    .filter(j -> j.finalStatus() == LifecycleEventType.FAILED && j.errorCode() != null)
                    .collect(Collectors.groupingBy(GroundTruth.Job::errorCode, TreeMap::new, Collectors.counting()));
            Map.Entry<String, Long> top = errors.entrySet().stream()
                    .min(Comparator.comparing((Map.Entry<String, Long> e) -> -e.getValue()).thenComparing(Map.Entry::getKey))
                    .orElse(null);
            out.put(pipeline, row(pipeline, (long) jobs.size(), completed, failed, cancelled,
                    completed + failed == 0 ? null : (double) failed / (completed + failed),
                    top == null ? null : top.getKey(), top == null ? null : top.getValue()));
        });
        return out;
    }

    /** analytics_queue_wait_daily, keyed by "system/day": jobs, p50, p95, max. */
    static Map<String, List<Object>> queueWaitDaily(GroundTruth truth) {
        Map<String, List<Long>> waits = new TreeMap<>();
        for (GroundTruth.Job j : truth.jobs()) {
            if (j.queueWaitMs() != null && j.queuedAt() != null) {
                waits.computeIfAbsent(j.hpcSystem() + "/" + day(j.queuedAt()), k -> new ArrayList<>()).add(j.queueWaitMs());
            }
        }
        Map<String, List<Object>> out = new TreeMap<>();
        waits.forEach((key, values) -> {
            values.sort(Long::compare);
            String[] parts = key.split("/");
            out.put(key, row(parts[0], LocalDate.parse(parts[1]), (long) values.size(), percentile(values, 0.5),
                    percentile(values, 0.95), values.get(values.size() - 1)));
        });
        return out;
    }

    /** analytics_user_cancellations, keyed by user. */
    static Map<String, List<Object>> userCancellations(GroundTruth truth) {
        Map<String, List<GroundTruth.Job>> byUser = truth.jobs().stream()
                .collect(Collectors.groupingBy(GroundTruth.Job::userId, TreeMap::new, Collectors.toList()));
        Map<String, List<Object>> out = new TreeMap<>();
        byUser.forEach((user, jobs) -> {
            List<GroundTruth.Job> cancelled = jobs.stream().filter(j -> j.finalStatus() == LifecycleEventType.CANCELLED).toList();
            if (!cancelled.isEmpty()) {
                out.put(user, row(user, (long) cancelled.size(),
                        cancelled.stream().filter(j -> j.startedAt() == null).count(), (long) jobs.size(),
                        (double) cancelled.size() / jobs.size(),
                        utc(cancelled.stream().mapToLong(GroundTruth.Job::endedAt).max().getAsLong())));
            }
        });
        return out;
    }

    /** analytics_sla_breaches, keyed by "job/breach": actual, limit, over. */
    static Map<String, List<Object>> slaBreaches(GroundTruth truth, List<Sla> slas) {
        Map<String, List<Object>> out = new TreeMap<>();
        for (GroundTruth.Job j : truth.jobs()) {
            Sla sla = slas.stream()
                    .filter(s -> (s.hpcSystem().equals("*") || s.hpcSystem().equals(j.hpcSystem()))
                            && (s.queue().equals("*") || s.queue().equals(j.queue())))
                    .min(Comparator.comparing((Sla s) -> s.hpcSystem().equals("*")).thenComparing(s -> s.queue().equals("*")))
                    .orElseThrow();
            long maxWait = sla.maxQueueWait().toMillis();
            if (j.queueWaitMs() != null && j.queueWaitMs() > maxWait) {
                out.put(j.jobId() + "/QUEUE_WAIT", row(j.queueWaitMs(), maxWait, j.queueWaitMs() - maxWait));
            }
            if (j.runMs() != null && j.runMs() > j.requestedWalltimeMs() + sla.walltimeGrace().toMillis()) {
                long limit = j.requestedWalltimeMs() + sla.walltimeGrace().toMillis();
                out.put(j.jobId() + "/WALLTIME", row(j.runMs(), limit, j.runMs() - limit));
            }
        }
        return out;
    }

    /** Rows of a PostgreSQL query, keyed by the given columns joined with "/", values of the other columns. */
    static Map<String, List<Object>> query(String jdbcUrl, String sql, List<String> keyColumns, List<String> valueColumns)
            throws SQLException {
        Map<String, List<Object>> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                List<String> key = new ArrayList<>();
                for (String k : keyColumns) {
                    key.add(String.valueOf(normalize(rs.getObject(k))));
                }
                List<Object> values = new ArrayList<>();
                for (String v : valueColumns) {
                    values.add(normalize(rs.getObject(v)));
                }
                Object previous = out.put(String.join("/", key), values);
                assertEquals(null, previous, "duplicate key " + key + " in " + sql);
            }
        }
        return out;
    }

    /** Asserts two keyed row sets are equal, numbers compared with a relative tolerance (percentiles, rates). */
    static void assertRowsEqual(String what, Map<String, List<Object>> expected, Map<String, List<Object>> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": keys");
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, List<Object>> e : expected.entrySet()) {
            List<Object> a = actual.get(e.getKey());
            for (int i = 0; i < e.getValue().size(); i++) {
                if (!same(e.getValue().get(i), a.get(i))) {
                    mismatches.add(e.getKey() + "[" + i + "]: expected " + e.getValue().get(i) + " but was " + a.get(i));
                }
            }
        }
        assertEquals(List.of(), mismatches.stream().limit(10).toList(), what + ": " + mismatches.size() + " mismatches");
        assertTrue(!expected.isEmpty() || actual.isEmpty());
    }

    static boolean same(Object expected, Object actual) {
        expected = normalize(expected);
        actual = normalize(actual);
        if (expected instanceof Number e && actual instanceof Number a) {
            double x = e.doubleValue();
            double y = a.doubleValue();
            return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.max(Math.abs(x), Math.abs(y)));
        }
        return Objects.equals(expected, actual);
    }

    /** JDBC and Flink values in one representation: timestamps as UTC LocalDateTime, dates as LocalDate. */
    static Object normalize(Object v) {
        if (v instanceof java.sql.Timestamp t) {
            return t.toLocalDateTime();
        }
        if (v instanceof java.sql.Date d) {
            return d.toLocalDate();
        }
        if (v instanceof Integer i) {
            return i.longValue();
        }
        if (v instanceof java.math.BigDecimal b) {
            return b.doubleValue();
        }
        return v;
    }

    /** A Flink SQL result's rows keyed by the given column positions. */
    static Map<String, List<Object>> keyed(List<List<Object>> rows, int keyColumns) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        for (List<Object> row : rows) {
            String key = String.join("/", row.subList(0, keyColumns).stream().map(v -> String.valueOf(normalize(v))).toList());
            out.put(key, new ArrayList<>(row.subList(keyColumns, row.size())));
        }
        return out;
    }

    /** PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks. */
    static double percentile(List<Long> sorted, double p) {
        double pos = p * (sorted.size() - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted.get(lo) + (pos - lo) * (sorted.get(hi) - sorted.get(lo));
    }

    static LocalDateTime utc(long epochMillis) {
        return LocalDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC);
    }

    static LocalDate day(long epochMillis) {
        return utc(epochMillis).toLocalDate();
    }

    private static long count(List<GroundTruth.Job> jobs, LifecycleEventType status) {
        return jobs.stream().filter(j -> j.finalStatus() == status).count();
    }

    static List<Object> row(Object... values) {
        List<Object> list = new ArrayList<>();
        for (Object v : values) {
            list.add(v);
        }
        return list;
    }

    /** Keeps the first {@code limit} entries of {@code rows} ordered by {@code order}. */
    static Map<String, List<Object>> top(Map<String, List<Object>> rows, Comparator<Map.Entry<String, List<Object>>> order,
            int limit) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        rows.entrySet().stream().sorted(order).limit(limit).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    static Map<String, List<Object>> copy(Map<String, List<Object>> rows) {
        return new HashMap<>(rows);
    }
}
