package io.cosmichorizons.cluster;

import static io.cosmichorizons.cluster.AnalyticsExpectations.assertRowsEqual;
import static io.cosmichorizons.cluster.AnalyticsExpectations.keyed;
import static io.cosmichorizons.cluster.AnalyticsExpectations.query;
import static io.cosmichorizons.cluster.AnalyticsExpectations.row;
import static io.cosmichorizons.cluster.AnalyticsExpectations.utc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.cluster.sql.FlinkSql;
import io.cosmichorizons.cluster.sql.SqlScripts;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.generator.WorkloadPlanner;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.testbed.RealServices;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every shipped analytics query (the PostgreSQL views of sql/analytics, applied by migration V004, and the Flink SQL
 * scripts of sql/flink run through {@link FlinkSql}'s JDBC catalog) against a populated database, with each result
 * checked against a recomputation from the generator's ground truth.
 *
 * <p>The database is populated the way the pipelines write it: job_status with one row per generated job as the
 * lifecycle job writes it (LifecycleJobITCase and LocalClusterITCase check that the job writes exactly these rows),
 * and audit_events with hash chains built by the rules of the ledger migration (V002), which audit_verify() then
 * checks, plus one deliberately broken chain.
 */
@ExtendWith(RealServices.class)
class AnalyticsViewsITCase {

    static final Path HOME = FlinkRuntime.home();
    static final byte[] MAC_KEY = "analytics-test-mac-key".getBytes(StandardCharsets.UTF_8);
    static final int LIFECYCLE_CHAINS = 4;

    static TimeZone previousZone;
    static String jdbcUrl;
    static GroundTruth truth;
    static List<AuditEntry> ledger;
    static List<AnalyticsExpectations.Sla> slas;
    static FlinkSql flink;

    /** One audit_events row. */
    record AuditEntry(String chainId, long seq, long chainTime, String eventId, String eventType, String sourceTopic,
            long sourceOffset, String jobId, String actor, String correlationId, long occurredAt, long kafkaTimestamp,
            String payload, byte[] prevHash, byte[] hash, byte[] mac) {}

    @BeforeAll
    static void populate() throws Exception {
        // bin/horizons sql runs in UTC (timestamptz columns are read in the JVM's zone); so does this test.
        previousZone = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        jdbcUrl = RealServices.freshDatabase("analytics");
        Migrations.migrate(jdbcUrl, line -> {});
        truth = new WorkloadPlanner(GeneratorConfig.builder().jobs(800).users(40).seed(23L)
                .submissionWindow(Duration.ofHours(40)).build()).planAll().groundTruth();
        insertJobStatus(truth);
        // A stricter SLA for one system (and one system+queue) than the default, so the most specific row must win.
        GroundTruth.Job sample = truth.jobs().get(0);
        slas = List.of(AnalyticsExpectations.DEFAULT_SLA,
                new AnalyticsExpectations.Sla(sample.hpcSystem(), "*", Duration.ofMinutes(10), Duration.ofMinutes(1)),
                new AnalyticsExpectations.Sla(sample.hpcSystem(), sample.queue(), Duration.ofMinutes(20), Duration.ZERO));
        try (Connection c = DriverManager.getConnection(jdbcUrl);
                PreparedStatement p = c.prepareStatement("INSERT INTO analytics_sla VALUES (?, ?, ?::interval, ?::interval)")) {
            for (AnalyticsExpectations.Sla s : slas.subList(1, slas.size())) {
                p.setString(1, s.hpcSystem());
                p.setString(2, s.queue());
                p.setString(3, s.maxQueueWait().toMillis() + " milliseconds");
                p.setString(4, s.walltimeGrace().toMillis() + " milliseconds");
                p.executeUpdate();
            }
        }
        ledger = buildLedger(truth);
        insertLedger(ledger);
        flink = new FlinkSql(jdbcUrl);
    }

    @AfterAll
    static void restoreZone() {
        if (previousZone != null) {
            TimeZone.setDefault(previousZone);
        }
    }

    // ---------------------------------------------------------------------------------------------------- views

    @Test
    void pipelineFailuresQueueWaitsCancellationsAndSlaBreachesMatchTheGroundTruth() throws Exception {
        assertRowsEqual("analytics_pipeline_failures", AnalyticsExpectations.pipelineFailures(truth),
                query(jdbcUrl, "SELECT * FROM analytics_pipeline_failures", List.of("pipeline"),
                        List.of("pipeline", "jobs_ended", "completed", "failed", "cancelled", "failure_rate",
                                "top_error_code", "top_error_count")));
        Map<String, List<Object>> waits = AnalyticsExpectations.queueWaitDaily(truth);
        assertTrue(waits.keySet().stream().map(k -> k.split("/")[1]).distinct().count() >= 2, "several days: " + waits.keySet());
        assertRowsEqual("analytics_queue_wait_daily", waits,
                query(jdbcUrl, "SELECT * FROM analytics_queue_wait_daily", List.of("hpc_system", "day"),
                        List.of("hpc_system", "day", "jobs", "p50_ms", "p95_ms", "max_ms")));
        assertRowsEqual("analytics_user_cancellations", AnalyticsExpectations.userCancellations(truth),
                query(jdbcUrl, "SELECT * FROM analytics_user_cancellations", List.of("user_id"),
                        List.of("user_id", "cancelled", "cancelled_before_start", "jobs_ended", "cancellation_rate",
                                "last_cancelled_at")));
        Map<String, List<Object>> breaches = AnalyticsExpectations.slaBreaches(truth, slas);
        assertFalse(breaches.isEmpty(), "the stricter SLA finds breaches");
        assertRowsEqual("analytics_sla_breaches", breaches,
                query(jdbcUrl, "SELECT * FROM analytics_sla_breaches", List.of("job_id", "breach"),
                        List.of("actual_ms", "limit_ms", "over_ms")));
    }

    @Test
    void auditTrailAndEventsByActorMatchTheLedger() throws Exception {
        String correlationId = multiActorCorrelationId();
        Map<String, List<Object>> expected = expectedByActor(correlationId);
        assertTrue(expected.size() >= 2, "a correlation id with several actors: " + expected);
        assertRowsEqual("analytics_audit_by_actor", expected, query(jdbcUrl,
                "SELECT * FROM analytics_audit_by_actor WHERE correlation_id = '" + correlationId + "'",
                List.of("actor"), List.of("events", "event_types", "first_at", "last_at")));
        List<String> actorsInOrder = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl);
                PreparedStatement p = c.prepareStatement("SELECT * FROM analytics_audit_events_by_actor(?)")) {
            p.setString(1, correlationId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    actorsInOrder.add(rs.getString("actor"));
                    assertEquals(expected.get(rs.getString("actor")).get(0), rs.getLong("events"));
                }
            }
        }
        assertEquals(expectedActorOrder(expected), actorsInOrder, "most events first, then by actor");

        String jobId = ledger.stream().filter(e -> e.eventType().equals("job.cancel")).findFirst().orElseThrow().jobId();
        List<List<Object>> trail = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM analytics_audit_trail WHERE job_id = '" + jobId
                        + "' ORDER BY occurred_at, chain_id, seq")) {
            while (rs.next()) {
                trail.add(row(AnalyticsExpectations.normalize(rs.getObject("occurred_at")), rs.getString("event_type"),
                        rs.getString("actor")));
            }
        }
        assertEquals(expectedTrail(jobId), trail);
    }

    @Test
    void chainVerificationFindsTheBrokenChainAndCountsUnanchoredEntries() throws Exception {
        Map<String, List<Object>> summary = query(jdbcUrl, "SELECT 1 AS k, * FROM analytics_chain_verification", List.of("k"),
                List.of("chains", "intact_chains", "broken_chains", "entries", "unanchored_entries", "latest_anchor_seq", "problems"));
        long chains = ledger.stream().map(AuditEntry::chainId).distinct().count();
        assertEquals(row(chains, chains - 1, 1L, (long) ledger.size(), expectedUnanchored(), 1L,
                "tampered/0 seq 1: prev_hash does not match the previous entry's hash"), summary.get("1"));
    }

    // ---------------------------------------------------------------------------------------------------- Flink SQL

    @Test
    void everyFlinkSqlScriptAnswersLikeTheGroundTruth() throws Exception {
        String correlationId = multiActorCorrelationId();
        String jobId = ledger.stream().filter(e -> e.eventType().equals("job.cancel")).findFirst().orElseThrow().jobId();
        Map<String, String> vars = Map.of("correlation_id", correlationId, "job_id", jobId);
        Map<String, Consumer<List<FlinkSql.Result>>> checks = new LinkedHashMap<>();
        checks.put("00_job_status_by_system.sql", r -> assertRowsEqual("job status by system", expectedBySystem(),
                keyed(r.get(0).rows(), 2)));
        checks.put("01_failing_pipelines.sql", r -> {
            Map<String, List<Object>> expected = AnalyticsExpectations.top(AnalyticsExpectations.pipelineFailures(truth),
                    Comparator.comparing((Map.Entry<String, List<Object>> e) -> -(Long) e.getValue().get(3)).thenComparing(Map.Entry::getKey), 10);
            Map<String, List<Object>> reordered = new LinkedHashMap<>();
            expected.forEach((k, v) -> reordered.put(k, row(v.get(3), v.get(2), v.get(4), v.get(1), v.get(5), v.get(6), v.get(7))));
            assertOrderedRows("failing pipelines", reordered, keyed(r.get(0).rows(), 1));
        });
        checks.put("02_queue_wait_p95.sql", r -> {
            Map<String, List<Object>> expected = new LinkedHashMap<>();
            AnalyticsExpectations.queueWaitDaily(truth).values().stream()
                    .sorted(Comparator.comparing((List<Object> v) -> v.get(1).toString()).thenComparing(v -> v.get(0).toString()))
                    .forEach(v -> expected.put(v.get(1) + "/" + v.get(0), row(v.get(2), v.get(3), v.get(4), v.get(5))));
            assertOrderedRows("queue wait p95", expected, keyed(r.get(0).rows(), 2));
        });
        checks.put("03_user_cancellations.sql", r -> {
            Map<String, List<Object>> expected = AnalyticsExpectations.top(AnalyticsExpectations.userCancellations(truth),
                    Comparator.comparing((Map.Entry<String, List<Object>> e) -> -(Long) e.getValue().get(1)).thenComparing(Map.Entry::getKey), 10);
            Map<String, List<Object>> values = new LinkedHashMap<>();
            expected.forEach((k, v) -> values.put(k, v.subList(1, v.size())));
            assertOrderedRows("user cancellations", values, keyed(r.get(0).rows(), 1));
        });
        checks.put("04_audit_by_actor.sql", r -> {
            Map<String, List<Object>> expected = expectedByActor(correlationId);
            Map<String, List<Object>> ordered = new LinkedHashMap<>();
            expectedActorOrder(expected).forEach(a -> ordered.put(a, expected.get(a)));
            assertOrderedRows("audit by actor", ordered, keyed(r.get(0).rows(), 1));
        });
        checks.put("05_sla_breaches.sql", r -> {
            Map<String, List<Object>> breaches = AnalyticsExpectations.slaBreaches(truth, slas);
            Map<String, GroundTruth.Job> jobs = truth.jobs().stream().collect(Collectors.toMap(GroundTruth.Job::jobId, j -> j));
            Map<String, List<Object>> summary = new TreeMap<>();
            breaches.forEach((key, v) -> {
                String[] parts = key.split("/");
                summary.merge(parts[1] + "/" + jobs.get(parts[0]).hpcSystem(), row(1L, v.get(2)),
                        (a, b) -> row((Long) a.get(0) + 1, Math.max((Long) a.get(1), (Long) b.get(1))));
            });
            assertRowsEqual("SLA breach summary", summary, keyed(r.get(0).rows(), 2));
            List<Map.Entry<String, List<Object>>> worst = breaches.entrySet().stream()
                    .sorted(Comparator.comparing((Map.Entry<String, List<Object>> e) -> -(Long) e.getValue().get(2))
                            .thenComparing(Map.Entry::getKey))
                    .limit(20).toList();
            assertEquals(worst.stream().map(Map.Entry::getKey).toList(), r.get(1).rows().stream()
                    .map(x -> x.get(0) + "/" + x.get(4)).toList(), "the 20 worst breaches, in order");
        });
        checks.put("06_chain_verification.sql", r -> {
            long chains = ledger.stream().map(AuditEntry::chainId).distinct().count();
            assertEquals(List.of(row(chains, chains - 1, 1L, (long) ledger.size(), expectedUnanchored(), 1L,
                    "tampered/0 seq 1: prev_hash does not match the previous entry's hash")), r.get(0).rows());
            assertEquals(List.of(row("tampered/0", 2L, 1L, 1L, "prev_hash does not match the previous entry's hash")),
                    r.get(1).rows());
        });
        checks.put("07_job_audit_trail.sql", r -> assertEquals(expectedTrail(jobId),
                r.get(0).rows().stream().map(x -> row(x.get(0), x.get(1), x.get(2))).toList()));

        List<String> files;
        try (Stream<Path> list = Files.list(HOME.resolve("sql/flink"))) {
            files = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sql")).sorted().toList();
        }
        assertEquals(new TreeSet<>(checks.keySet()), new TreeSet<>(files), "every shipped Flink SQL script is checked");
        for (String file : files) {
            String script = SqlScripts.substitute(Files.readString(HOME.resolve("sql/flink").resolve(file)), vars);
            checks.get(file).accept(flink.run(script));
        }
    }

    // ---------------------------------------------------------------------------------------------------- migration

    @Test
    void theMigrationAppliesEveryAnalyticsFileVerbatim() throws Exception {
        String migration = Files.readString(HOME.resolve("sql/migrations/V004__analytics_views.sql"));
        List<String> views = new ArrayList<>();
        try (Stream<Path> files = Files.list(HOME.resolve("sql/analytics"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".sql")).sorted().toList()) {
                String text = Files.readString(f);
                assertTrue(migration.contains(text.strip()), f.getFileName() + " is not in V004 verbatim");
                Matcher m = Pattern.compile("CREATE OR REPLACE VIEW (\\w+)").matcher(text);
                while (m.find()) {
                    views.add(m.group(1));
                }
            }
        }
        assertTrue(views.size() >= 8, views.toString());
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            for (String view : views) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + view)) {
                    assertTrue(rs.next(), view);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- expected

    private static Map<String, List<Object>> expectedBySystem() {
        Map<String, List<GroundTruth.Job>> groups = truth.jobs().stream()
                .collect(Collectors.groupingBy(j -> j.hpcSystem() + "/" + j.finalStatus().name(), TreeMap::new, Collectors.toList()));
        Map<String, List<Object>> out = new TreeMap<>();
        groups.forEach((key, jobs) -> {
            List<Long> runs = jobs.stream().map(GroundTruth.Job::runMs).filter(java.util.Objects::nonNull).toList();
            // Flink's AVG of a BIGINT column is a BIGINT (truncated), as in Java's integer division.
            Long avg = runs.isEmpty() ? null : runs.stream().mapToLong(Long::longValue).sum() / runs.size();
            out.put(key, row((long) jobs.size(), avg, utc(jobs.stream().mapToLong(GroundTruth.Job::endedAt).max().getAsLong())));
        });
        return out;
    }

    private static String multiActorCorrelationId() {
        return ledger.stream().filter(e -> e.eventType().equals("job.cancel") && !e.actor().startsWith("user-"))
                .findFirst().orElseThrow().correlationId();
    }

    private static Map<String, List<Object>> expectedByActor(String correlationId) {
        Map<String, List<AuditEntry>> byActor = ledger.stream().filter(e -> e.correlationId().equals(correlationId))
                .collect(Collectors.groupingBy(AuditEntry::actor, TreeMap::new, Collectors.toList()));
        Map<String, List<Object>> out = new TreeMap<>();
        byActor.forEach((actor, entries) -> out.put(actor, row((long) entries.size(),
                String.join(",", new TreeSet<>(entries.stream().map(AuditEntry::eventType).toList())),
                utc(entries.stream().mapToLong(AuditEntry::occurredAt).min().getAsLong()),
                utc(entries.stream().mapToLong(AuditEntry::occurredAt).max().getAsLong()))));
        return out;
    }

    private static List<String> expectedActorOrder(Map<String, List<Object>> byActor) {
        return byActor.entrySet().stream()
                .sorted(Comparator.comparing((Map.Entry<String, List<Object>> e) -> -(Long) e.getValue().get(0))
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey).toList();
    }

    private static List<List<Object>> expectedTrail(String jobId) {
        return ledger.stream().filter(e -> jobId.equals(e.jobId()))
                .sorted(Comparator.comparingLong(AuditEntry::occurredAt).thenComparing(AuditEntry::chainId).thenComparingLong(AuditEntry::seq))
                .map(e -> row(utc(e.occurredAt()), e.eventType(), e.actor())).toList();
    }

    /** The anchor covers the lifecycle chains up to 2 entries before their end; other chains are not anchored. */
    private static long expectedUnanchored() {
        Map<String, Long> entries = ledger.stream().collect(Collectors.groupingBy(AuditEntry::chainId, Collectors.counting()));
        long total = 0;
        for (Map.Entry<String, Long> e : entries.entrySet()) {
            total += e.getKey().startsWith("job-lifecycle/") ? 2 : e.getValue();
        }
        return total;
    }

    private static void assertOrderedRows(String what, Map<String, List<Object>> expected, Map<String, List<Object>> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), what + ": rows and their order");
        assertRowsEqual(what, new TreeMap<>(expected), new TreeMap<>(actual));
    }

    // ---------------------------------------------------------------------------------------------------- population

    /** job_status as the lifecycle job writes it for each job of the ground truth. */
    private static void insertJobStatus(GroundTruth truth) throws Exception {
        String sql = "INSERT INTO job_status (job_id, status, version, user_id, correlation_id, hpc_system, queue, pipeline, "
                + "requested_cores, requested_walltime_ms, hpc_job_id, submitted_at, queued_at, started_at, ended_at, "
                + "queue_wait_ms, run_ms, exit_code, error_code, error_message, last_event_id, last_event_at) "
                + "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
        try (Connection c = DriverManager.getConnection(jdbcUrl); PreparedStatement p = c.prepareStatement(sql)) {
            for (GroundTruth.Job j : truth.jobs()) {
                int i = 1;
                p.setString(i++, j.jobId());
                p.setString(i++, j.finalStatus().name());
                p.setInt(i++, j.lifecycle().size());
                p.setString(i++, j.userId());
                p.setString(i++, j.submissionCorrelationId());
                p.setString(i++, j.hpcSystem());
                p.setString(i++, j.queue());
                p.setString(i++, j.pipeline());
                p.setInt(i++, j.requestedCores());
                p.setLong(i++, j.requestedWalltimeMs());
                p.setString(i++, j.hpcJobId());
                p.setObject(i++, timestamp(j.submittedAt()));
                p.setObject(i++, timestamp(j.queuedAt()));
                p.setObject(i++, timestamp(j.startedAt()));
                p.setObject(i++, timestamp(j.endedAt()));
                p.setObject(i++, j.queueWaitMs());
                p.setObject(i++, j.runMs());
                p.setObject(i++, j.finalStatus() == LifecycleEventType.CANCELLED ? null : j.exitCode());
                p.setString(i++, j.errorCode());
                p.setString(i++, j.errorMessage());
                p.setString(i++, j.terminal().eventId());
                p.setObject(i, timestamp(j.endedAt()));
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    private static java.time.OffsetDateTime timestamp(Long epochMillis) {
        return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis).atOffset(ZoneOffset.UTC);
    }

    /**
     * The ledger: every lifecycle step on one of 4 chains (by job), a job.submit action per job and a job.cancel action
     * per cancelled job (by whoever cancelled it, under the cancellation's correlation id) on an audit-trail chain, and
     * a two-entry chain whose second entry does not link to the first.
     */
    private static List<AuditEntry> buildLedger(GroundTruth truth) throws Exception {
        record Event(String chain, String topic, long at, String eventId, String type, String jobId, String actor, String correlationId) {}
        List<Event> events = new ArrayList<>();
        for (GroundTruth.Job j : truth.jobs()) {
            String chain = "job-lifecycle/" + Math.floorMod(j.jobId().hashCode(), LIFECYCLE_CHAINS);
            for (GroundTruth.Step s : j.lifecycle()) {
                events.add(new Event(chain, "job-lifecycle", s.occurredAt(), s.eventId(), s.type().name(), j.jobId(), j.userId(), s.correlationId()));
            }
            events.add(new Event("audit-trail/0", "audit-trail", j.submittedAt(), "submit-" + j.jobId(), "job.submit", j.jobId(),
                    j.userId(), j.submissionCorrelationId()));
            if (j.finalStatus() == LifecycleEventType.CANCELLED && j.cancelledBy() != null) {
                events.add(new Event("audit-trail/1", "audit-trail", j.endedAt(), "cancel-" + j.jobId(), "job.cancel", j.jobId(),
                        j.cancelledBy(), j.terminal().correlationId()));
            }
        }
        Map<String, List<Event>> byChain = events.stream().collect(Collectors.groupingBy(Event::chain, TreeMap::new, Collectors.toList()));
        List<AuditEntry> entries = new ArrayList<>();
        for (Map.Entry<String, List<Event>> chain : byChain.entrySet()) {
            List<Event> ordered = chain.getValue().stream()
                    .sorted(Comparator.comparingLong(Event::at).thenComparing(Event::eventId)).toList();
            byte[] prev = new byte[32];
            long chainTime = Long.MIN_VALUE;
            for (int seq = 0; seq < ordered.size(); seq++) {
                Event e = ordered.get(seq);
                chainTime = Math.max(chainTime, e.at());
                AuditEntry entry = entry(chain.getKey(), seq, chainTime, e.eventId(), e.type(), e.topic(), seq, e.jobId(),
                        e.actor(), e.correlationId(), e.at(), prev);
                entries.add(entry);
                prev = entry.hash();
            }
        }
        long at = truth.jobs().get(0).submittedAt();
        AuditEntry first = entry("tampered/0", 0, at, "t-0", "job.submit", "audit-trail", 0, null, "mallory", "c-t", at, new byte[32]);
        byte[] wrongLink = MessageDigest.getInstance("SHA-256").digest("not the previous hash".getBytes(StandardCharsets.UTF_8));
        entries.add(first);
        entries.add(entry("tampered/0", 1, at, "t-1", "job.submit", "audit-trail", 1, null, "mallory", "c-t", at, wrongLink));
        return entries;
    }

    private static AuditEntry entry(String chainId, long seq, long chainTime, String eventId, String eventType, String topic,
            long offset, String jobId, String actor, String correlationId, long occurredAt, byte[] prevHash) throws Exception {
        String payload = "{\"event_id\":\"" + eventId + "\",\"event_type\":\"" + eventType + "\"}";
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(prevHash);
        // The canonical form of V002's audit_canonical(): each field as <byte length>:<UTF-8 bytes>, ~ for null.
        for (String field : new String[] {chainId, Long.toString(seq), Long.toString(chainTime), topic,
                Long.toString(offset), Long.toString(occurredAt), eventId, eventType, jobId, actor, correlationId,
                Long.toString(occurredAt), payload}) {
            if (field == null) {
                sha.update((byte) '~');
            } else {
                byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
                sha.update((bytes.length + ":").getBytes(StandardCharsets.UTF_8));
                sha.update(bytes);
            }
        }
        byte[] hash = sha.digest();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(MAC_KEY, "HmacSHA256"));
        return new AuditEntry(chainId, seq, chainTime, eventId, eventType, topic, offset, jobId, actor, correlationId,
                occurredAt, occurredAt, payload, prevHash, hash, mac.doFinal(hash));
    }

    private static void insertLedger(List<AuditEntry> entries) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            try (PreparedStatement p = c.prepareStatement("SELECT audit_ensure_partition(?)")) {
                for (java.time.LocalDate day : new TreeSet<>(entries.stream().map(e -> AnalyticsExpectations.day(e.chainTime())).toList())) {
                    p.setObject(1, day);
                    p.execute();
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO audit_events (chain_id, seq, chain_time, event_id, "
                    + "event_type, source_topic, source_offset, job_id, actor, correlation_id, occurred_at, kafka_timestamp, "
                    + "payload, prev_hash, hash, mac, key_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                for (AuditEntry e : entries) {
                    int i = 1;
                    p.setString(i++, e.chainId());
                    p.setLong(i++, e.seq());
                    p.setObject(i++, timestamp(e.chainTime()));
                    p.setString(i++, e.eventId());
                    p.setString(i++, e.eventType());
                    p.setString(i++, e.sourceTopic());
                    p.setLong(i++, e.sourceOffset());
                    p.setString(i++, e.jobId());
                    p.setString(i++, e.actor());
                    p.setString(i++, e.correlationId());
                    p.setObject(i++, timestamp(e.occurredAt()));
                    p.setObject(i++, timestamp(e.kafkaTimestamp()));
                    p.setString(i++, e.payload());
                    p.setBytes(i++, e.prevHash());
                    p.setBytes(i++, e.hash());
                    p.setBytes(i++, e.mac());
                    p.setString(i, "test-key");
                    p.addBatch();
                }
                p.executeBatch();
            }
            // One periodic anchor over the lifecycle chains, 2 entries before each chain's end.
            Map<String, AuditEntry> heads = new TreeMap<>();
            Map<String, Long> lastSeq = entries.stream().collect(Collectors.toMap(AuditEntry::chainId, AuditEntry::seq, Math::max));
            for (AuditEntry e : entries) {
                if (e.chainId().startsWith("job-lifecycle/") && e.seq() == lastSeq.get(e.chainId()) - 2) {
                    heads.put(e.chainId(), e);
                }
            }
            byte[] zero = new byte[32];
            try (PreparedStatement p = c.prepareStatement("INSERT INTO audit_anchors (anchor_seq, kind, created_at, chain_count, "
                    + "merkle_root, prev_anchor_hash, anchor_hash, key_id, signature) VALUES (1, 'periodic', now(), ?, ?, ?, ?, 'test', ?)")) {
                p.setInt(1, heads.size());
                p.setBytes(2, zero);
                p.setBytes(3, zero);
                p.setBytes(4, zero);
                p.setBytes(5, new byte[64]);
                p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO audit_anchor_heads VALUES (1, ?, ?, ?, ?, ?)")) {
                for (AuditEntry e : heads.values()) {
                    p.setString(1, e.chainId());
                    p.setLong(2, e.seq());
                    p.setBytes(3, e.hash());
                    p.setObject(4, timestamp(e.chainTime()));
                    p.setLong(5, e.sourceOffset());
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
    }
}
