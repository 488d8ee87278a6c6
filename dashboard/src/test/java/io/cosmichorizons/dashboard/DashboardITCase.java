package io.cosmichorizons.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.events.AlertSeverity;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard in headless Chromium against the lifecycle job on a MiniCluster, a real broker and a real PostgreSQL:
 * the page's numbers are checked against job_status (recomputed here, independently of the dashboard's SQL), live
 * alerts and notifications must appear without a reload within 2 s of being committed, and job_status changes within
 * 1 s.
 */
@ExtendWith(RealServices.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardITCase {
    private static final Logger LOG = LoggerFactory.getLogger(DashboardITCase.class);
    private static final Duration LIVE = Duration.ofSeconds(2);
    /** job_status changes: from the commit to the page. */
    private static final Duration TABLE_LIVE = Duration.ofSeconds(1);
    private static final List<String> FIELDS = List.of("submitted", "queued", "running", "completed", "failed",
            "cancelled");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    private static LiveStack live;
    private static Chromium browser;
    private static GroundTruth truth;
    /** The newest event time of the workload: new test events go just before it, so "the last hour" stays put. */
    private static Instant newest;
    private static String system;

    @BeforeAll
    static void startEverything(@InjectMiniCluster MiniCluster flink) throws Exception {
        live = LiveStack.start("dashboard", flink);
        truth = TestStack.publish(live.stack.workload(200, 11L).build());
        newest = Instant.ofEpochMilli(truth.jobs().stream().flatMap(j -> j.lifecycle().stream())
                .mapToLong(GroundTruth.Step::occurredAt).max().orElseThrow());
        system = truth.jobs().get(0).hpcSystem();
        // Jobs that stay queued or running, and one only submitted, so every column and both charts have data.
        for (int i = 0; i < 3; i++) {
            live.openJob("open-queued-" + i, "ops-queued", system, "imaging", newest.minusSeconds(2400),
                    newest.minusSeconds(2340 - 300L * i), null);
        }
        for (int i = 0; i < 2; i++) {
            live.openJob("open-running-" + i, "ops-running", system, "calibration", newest.minusSeconds(3000),
                    newest.minusSeconds(2940), newest.minusSeconds(1200 + 60L * i));
        }
        live.openJob("open-submitted", "ops-submitted", system, "imaging", newest.minusSeconds(300), null, null);
        long expectedRows = truth.jobs().size() + 6L;
        TestStack.await("job_status to hold every job", Duration.ofSeconds(60), () -> jobStatusRows() >= expectedRows
                && finishedRows() >= truth.jobs().size());

        live.startDashboard(0);
        browser = Chromium.start();
        browser.driver.get(live.dashboard.url());
        LiveStack.within("the page to connect", Duration.ofSeconds(15), () -> "live".equals(connectionState()));
        // Reloading would reset this; the live checks assert it is still there.
        browser.js("window.__sameDocument = 'yes';");
    }

    @AfterAll
    static void stopEverything() throws Exception {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (live != null) {
                live.close();
            }
        }
    }

    @Test
    @Order(1)
    void countsShownEqualJobStatus() {
        Map<String, List<Long>> expected = new TreeMap<>();
        Map<String, List<Long>> shown = new TreeMap<>();
        try {
            LiveStack.within("the page's counts to equal job_status", Duration.ofSeconds(10), () -> {
                expected.clear();
                expected.putAll(countsFromJobStatus());
                shown.clear();
                shown.putAll(countsOnPage());
                return !expected.isEmpty() && expected.equals(shown);
            });
        } catch (AssertionError e) {
            assertEquals(expected, shown, "counts per HPC system (submitted, queued, running, completed, failed, "
                    + "cancelled)");
        }
        assertTrue(expected.get(system).get(1) >= 3 && expected.get(system).get(2) >= 2, expected::toString);
        // The totals row adds the systems up.
        @SuppressWarnings("unchecked")
        List<Object> totals = (List<Object>) browser.js("return Array.from(document.querySelectorAll("
                + "'#jobs-by-system tfoot [data-field]')).map(td => td.textContent);");
        for (int i = 0; i < FIELDS.size(); i++) {
            int f = i;
            assertEquals(String.valueOf(shown.values().stream().mapToLong(v -> v.get(f)).sum()), totals.get(i));
        }
        assertNoCspViolations();
    }

    @Test
    @Order(2)
    void queueChartsAreTheHourUpToTheNewestEventRecomputedFromJobStatus() throws Exception {
        JsonNode[] served = new JsonNode[1];
        QueueExpectation[] expected = new QueueExpectation[1];
        try {
            LiveStack.within("the served charts to equal a recomputation from job_status", Duration.ofSeconds(10),
                    () -> {
                        expected[0] = QueueExpectation.fromJobStatus(live.stack.jdbcUrl);
                        served[0] = snapshot().path("series");
                        return expected[0].matches(served[0]);
                    });
        } catch (AssertionError e) {
            throw new AssertionError("expected " + expected[0] + "\nserved " + served[0], e);
        }
        assertTrue(expected[0].depthAtEnd(system) >= 3, "the open queued jobs are in the last point");
        assertTrue(expected[0].hasWaits(), "some jobs started in the hour");
        // Both charts are drawn, with one series per system in the legend.
        LiveStack.within("both charts to be drawn", Duration.ofSeconds(5), () -> Boolean.TRUE.equals(browser.js(
                "return document.querySelectorAll('#chart-depth canvas, #chart-wait canvas').length === 2;")));
        @SuppressWarnings("unchecked")
        List<Object> legend = (List<Object>) browser.js("return Array.from(document.querySelectorAll("
                + "'#chart-depth .u-legend .u-series .u-label')).map(e => e.textContent);");
        List<String> labels = expected[0].systems().stream().map(sys -> sys == null ? "(no system yet)" : sys).toList();
        assertTrue(legend.containsAll(labels), legend + " has a series for each of " + labels);
    }

    @Test
    @Order(3)
    void aNewAlertAndANewNotificationAppearWithoutAReloadWithinTwoSeconds() throws Exception {
        String alertId = UUID.randomUUID().toString();
        live.publishAlert(LiveStack.alert(alertId, AlertState.OPEN, AlertSeverity.CRITICAL, "queue batch",
                "Jobs waited longer than 10 minutes", Instant.now().minusSeconds(90), null));
        Duration alertShown = LiveStack.within("the new alert on the page", LIVE,
                () -> rowCount("#open-alerts tr[data-alert-id='" + alertId + "']") == 1);
        LOG.info("Alert shown {} ms after its transaction committed", alertShown.toMillis());
        assertEquals("CRITICAL", text("#open-alerts tr[data-alert-id='" + alertId + "'] .badge"));
        String age = text("#open-alerts tr[data-alert-id='" + alertId + "'] .age");
        assertTrue(age.startsWith("1m "), "age of an alert opened 90 s ago: " + age);

        // A job that completes: its notification is committed by the lifecycle job's exactly-once sink.
        String jobId = "live-" + UUID.randomUUID();
        long[] committedAt = {0};
        long[] shownAt = {0};
        try (KafkaConsumer<byte[], byte[]> committed = readCommitted(live.stack.topic(Topics.JOB_NOTIFICATIONS))) {
            long published = System.nanoTime();
            live.completedJob(jobId, "live-user", system, newest.minusSeconds(30));
            LiveStack.within("the notification to be committed and shown", Duration.ofSeconds(30), () -> {
                if (committedAt[0] == 0) {
                    for (ConsumerRecord<byte[], byte[]> r : committed.poll(Duration.ofMillis(20))) {
                        if (new String(r.key()).equals(jobId)) {
                            committedAt[0] = System.nanoTime();
                        }
                    }
                }
                if (shownAt[0] == 0 && rowCount("#notifications li[data-user='live-user']") > 0) {
                    shownAt[0] = System.nanoTime();
                }
                return committedAt[0] != 0 && shownAt[0] != 0;
            });
            LOG.info("Notification shown {} ms after the job's events were published",
                    (shownAt[0] - published) / 1_000_000);
        }
        long afterCommitMs = Math.max(0, (shownAt[0] - committedAt[0]) / 1_000_000);
        LOG.info("Notification shown {} ms after this test saw it committed", afterCommitMs);
        assertTrue(afterCommitMs <= LIVE.toMillis(), "shown " + afterCommitMs + " ms after the commit");
        assertTrue(text("#notifications li[data-user='live-user'] .title").contains(jobId));
        assertEquals("yes", browser.js("return window.__sameDocument;"), "the page was not reloaded");
    }

    @Test
    @Order(4)
    void aResolvedAlertMovesToTheResolvedList() {
        String alertId = UUID.randomUUID().toString();
        Instant opened = Instant.now().minusSeconds(600);
        live.publishAlert(LiveStack.alert(alertId, AlertState.OPEN, AlertSeverity.WARNING, "hpc-test",
                "Queue wait p95 above threshold", opened, null));
        LiveStack.within("the alert among the open ones", LIVE,
                () -> rowCount("#open-alerts tr[data-alert-id='" + alertId + "']") == 1);

        live.publishAlert(LiveStack.alert(alertId, AlertState.RESOLVED, AlertSeverity.WARNING, "hpc-test",
                "Queue wait p95 above threshold", opened, opened.plusSeconds(420)));
        Duration moved = LiveStack.within("the alert to move to the resolved list", LIVE,
                () -> rowCount("#resolved-alerts tr[data-alert-id='" + alertId + "']") == 1
                        && rowCount("#open-alerts tr[data-alert-id='" + alertId + "']") == 0);
        LOG.info("Resolved alert moved {} ms after its transaction committed", moved.toMillis());
        assertEquals("7m 0s", browser.js("return document.querySelector(\"#resolved-alerts tr[data-alert-id='"
                + alertId + "']\").children[2].textContent;"), "how long it lasted");
        assertEquals("yes", browser.js("return window.__sameDocument;"), "the page was not reloaded");
    }

    @Test
    @Order(5)
    void notificationsFilterByUserWithTheirHistory() throws Exception {
        Set<String> users = new TreeSet<>();
        truth.jobs().forEach(j -> users.add(j.userId()));
        String user = users.stream().filter(u -> users.stream().noneMatch(o -> !o.equals(u) && o.contains(u)))
                .findFirst().orElseThrow();
        Set<String> expected = new HashSet<>();
        try (Connection c = DriverManager.getConnection(live.stack.jdbcUrl);
                PreparedStatement s = c.prepareStatement("SELECT notification_id FROM notifications WHERE user_id = ?")) {
            s.setString(1, user);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    expected.add(rs.getString(1));
                }
            }
        }
        assertFalse(expected.isEmpty(), "the user has notifications");
        var filter = browser.driver.findElement(org.openqa.selenium.By.id("user-filter"));
        filter.sendKeys(user);
        try {
            LiveStack.within("only " + user + "'s notifications, all of them", Duration.ofSeconds(5), () -> {
                List<List<String>> shown = shownNotifications();
                return shown.stream().allMatch(n -> n.get(1).toLowerCase().contains(user.toLowerCase()))
                        && shown.stream().map(n -> n.get(0)).toList().containsAll(expected);
            });
        } finally {
            filter.clear();
            browser.js("document.getElementById('user-filter').dispatchEvent(new Event('input'));");
        }
        LiveStack.within("the unfiltered list again", Duration.ofSeconds(5),
                () -> shownNotifications().stream().anyMatch(n -> !n.get(1).equals(user)));
    }

    @Test
    @Order(6)
    void theLastCheckpointOfTheLifecycleJobIsShown() throws Exception {
        LiveStack.within("the lifecycle job with a completed checkpoint (served: "
                + snapshot().path("health").path("flink") + ")", Duration.ofSeconds(10), () -> {
            Object id = browser.js("const row = Array.from(document.querySelectorAll('#flink-jobs tbody tr'))"
                    + ".find(tr => tr.children[0].textContent === arguments[0]);"
                    + "return row ? row.getAttribute('data-checkpoint-id') : null;", LiveStack.LIFECYCLE_JOB_NAME);
            return id != null && !id.toString().isEmpty();
        });
        JsonNode rest = LiveState.JSON.readTree(LiveStack.get(live.flinkRest.resolve("/jobs/"
                + live.lifecycle.getJobID() + "/checkpoints").toString()).body());
        long restLatest = rest.path("latest").path("completed").path("id").asLong();
        long shown = Long.parseLong(browser.js("return Array.from(document.querySelectorAll('#flink-jobs tbody tr'))"
                + ".find(tr => tr.children[0].textContent === arguments[0]).getAttribute('data-checkpoint-id');",
                LiveStack.LIFECYCLE_JOB_NAME).toString());
        assertTrue(shown > 0 && shown <= restLatest, "shown checkpoint " + shown + ", REST latest " + restLatest);
    }

    @Test
    @Order(7)
    void thePageResumesAfterTheServerRestarts() throws Exception {
        Object firstInstance = browser.js("return document.body.getAttribute('data-server-instance');");
        int port = live.dashboard.port();
        live.dashboard.close();
        LiveStack.within("the page to notice", Duration.ofSeconds(10),
                () -> !"live".equals(connectionState()));
        live.startDashboard(port);
        Duration back = LiveStack.within("the page to reconnect to the new server", Duration.ofSeconds(15),
                () -> "live".equals(connectionState())
                        && !Objects.equals(firstInstance, browser.js("return document.body.getAttribute('data-server-instance');")));
        LOG.info("Page reconnected {} ms after the server restarted", back.toMillis());
        String alertId = UUID.randomUUID().toString();
        live.publishAlert(LiveStack.alert(alertId, AlertState.OPEN, AlertSeverity.INFO, "after-restart",
                "Raised after the restart", Instant.now(), null));
        LiveStack.within("an alert raised after the restart", LIVE,
                () -> rowCount("#open-alerts tr[data-alert-id='" + alertId + "']") == 1);
        assertEquals("yes", browser.js("return window.__sameDocument;"), "the page was not reloaded");
        assertNotEquals(0, rowCount("#jobs-by-system tbody tr"), "the counts are back");
        assertNoCspViolations();
    }

    @Test
    @Order(8)
    void committedJobStatusChangesAreShownWithinOneSecondWithoutAReload() throws Exception {
        // Written here, not through the pipeline, so that the test knows the instant each change commits. The event
        // times stay before the newest one, so "the last hour" stays where it is.
        assertEquals("ok", snapshot().path("health").path("database").asText(),
                "the dashboard hears job_status's changes (LISTEN, the trigger of migration V008)");
        String jobId = "direct-" + UUID.randomUUID();
        Instant submitted = newest.minusSeconds(180);
        List<Long> before = countsOnPage().get(system);
        long insertCommitted = commit("""
                INSERT INTO job_status (job_id, status, version, user_id, correlation_id, hpc_system, queue, pipeline,
                    submitted_at, queued_at, last_event_id, last_event_at)
                VALUES (?, 'QUEUED', 2, 'ops-direct', ?, ?, 'batch', 'imaging', ?, ?, ?, ?)""",
                jobId, jobId, system, Timestamp.from(submitted), Timestamp.from(submitted.plusSeconds(5)),
                jobId + "-queued", Timestamp.from(submitted.plusSeconds(5)));
        long insertShown = shownAt("the queued count one higher", insertCommitted,
                () -> queuedAndRunning().equals(List.of(before.get(1) + 1, before.get(2))));

        // A second commit soon after the first re-read, usually within the gap the server keeps between re-reads.
        long updateCommitted = commit("""
                UPDATE job_status SET status = 'RUNNING', version = 3, started_at = ?, queue_wait_ms = 60000,
                    last_event_id = ?, last_event_at = ? WHERE job_id = ?""",
                Timestamp.from(submitted.plusSeconds(65)), jobId + "-running", Timestamp.from(submitted.plusSeconds(65)),
                jobId);
        long updateShown = shownAt("the job moved from queued to running", updateCommitted,
                () -> queuedAndRunning().equals(List.of(before.get(1), before.get(2) + 1)));
        LOG.info("job_status commits shown {} ms and {} ms after they committed", insertShown, updateShown);
        assertEquals("yes", browser.js("return window.__sameDocument;"), "the page was not reloaded");
    }

    /** Runs one statement in a transaction of its own; returns System.nanoTime() right after the commit. */
    private static long commit(String sql, Object... params) throws Exception {
        try (Connection c = DriverManager.getConnection(live.stack.jdbcUrl)) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    s.setObject(i + 1, params[i]);
                }
                assertEquals(1, s.executeUpdate(), sql);
            }
            c.commit();
            return System.nanoTime();
        }
    }

    /** Waits until the page shows {@code condition}; asserts it did within 1 s of the commit, and returns how long. */
    private static long shownAt(String what, long committedNanos, java.util.function.BooleanSupplier condition) {
        LiveStack.within(what, TABLE_LIVE, condition);
        long afterCommitMs = (System.nanoTime() - committedNanos) / 1_000_000;
        assertTrue(afterCommitMs <= TABLE_LIVE.toMillis(), what + ": shown " + afterCommitMs + " ms after the commit");
        return afterCommitMs;
    }

    /** The queued and running counts the page shows for the test's system. */
    private static List<Long> queuedAndRunning() {
        List<Long> counts = countsOnPage().get(system);
        return counts == null ? List.of() : List.of(counts.get(1), counts.get(2));
    }

    // ------------------------------------------------------------------------------------------ page reads

    private static String connectionState() {
        return (String) browser.js("return document.getElementById('connection').getAttribute('data-state');");
    }

    private static long rowCount(String selector) {
        return (Long) browser.js("return document.querySelectorAll(arguments[0]).length;", selector);
    }

    private static String text(String selector) {
        return (String) browser.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                selector);
    }

    private static void assertNoCspViolations() {
        assertEquals(null, browser.js("return document.body.getAttribute('data-csp-violations');"),
                "the page itself needs nothing the Content-Security-Policy forbids");
    }

    /** System to the six counts, as the page shows them. */
    @SuppressWarnings("unchecked")
    private static Map<String, List<Long>> countsOnPage() {
        List<List<Object>> rows = (List<List<Object>>) browser.js("""
                return Array.from(document.querySelectorAll('#jobs-by-system tbody tr')).map(tr =>
                    [tr.getAttribute('data-system')].concat(
                        Array.from(tr.querySelectorAll('[data-field]')).map(td => td.textContent)));""");
        Map<String, List<Long>> out = new TreeMap<>();
        for (List<Object> row : rows) {
            out.put((String) row.get(0), row.subList(1, row.size()).stream().map(v -> Long.parseLong((String) v)).toList());
        }
        return out;
    }

    /** [notification id, user] of the notifications shown, top first. */
    @SuppressWarnings("unchecked")
    private static List<List<String>> shownNotifications() {
        return (List<List<String>>) browser.js("return Array.from(document.querySelectorAll('#notifications li'))"
                + ".map(li => [li.getAttribute('data-notification-id'), li.getAttribute('data-user')]);");
    }

    private static JsonNode snapshot() {
        try {
            return LiveState.JSON.readTree(LiveStack.get(live.dashboard.url() + "api/snapshot").body());
        } catch (Exception e) {
            throw new AssertionError("GET /api/snapshot failed", e);
        }
    }

    // ------------------------------------------------------------------------------------------ recomputations

    /**
     * Jobs by status per system, recomputed from all job_status rows here: waiting and running now, ended within the
     * hour up to the newest event time.
     */
    private static Map<String, List<Long>> countsFromJobStatus() {
        List<Object[]> rows = new ArrayList<>();
        long newestEvent = Long.MIN_VALUE;
        try (Connection c = DriverManager.getConnection(live.stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT status, hpc_system, ended_at, last_event_at FROM job_status")) {
            while (rs.next()) {
                Timestamp ended = rs.getTimestamp(3);
                rows.add(new Object[] {rs.getString(1), rs.getString(2), ended == null ? null : ended.getTime()});
                newestEvent = Math.max(newestEvent, rs.getTimestamp(4).getTime());
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        long windowStart = Math.min(newestEvent, System.currentTimeMillis()) - 3_600_000L;
        Map<String, long[]> counts = new TreeMap<>();
        for (Object[] row : rows) {
            String status = (String) row[0];
            Long ended = (Long) row[2];
            int field = FIELDS.indexOf(status.toLowerCase());
            boolean now = field >= 0 && field <= 2;
            boolean endedInWindow = field > 2 && ended != null && ended > windowStart;
            if (now || endedInWindow) {
                counts.computeIfAbsent(row[1] == null ? "" : (String) row[1], k -> new long[6])[field]++;
            }
        }
        Map<String, List<Long>> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, java.util.Arrays.stream(v).boxed().toList()));
        return out;
    }

    private static long jobStatusRows() {
        return count("SELECT count(*) FROM job_status");
    }

    private static long finishedRows() {
        return count("SELECT count(*) FROM job_status WHERE status IN ('COMPLETED','FAILED','CANCELLED')");
    }

    private static long count(String sql) {
        try (Connection c = DriverManager.getConnection(live.stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KafkaConsumer<byte[], byte[]> readCommitted(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, RealServices.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end now, before the events are published
        return consumer;
    }
}
