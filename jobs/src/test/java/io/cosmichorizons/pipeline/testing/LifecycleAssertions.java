package io.cosmichorizons.pipeline.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.lifecycle.Notifications;
import io.cosmichorizons.topics.Topics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Checks of the lifecycle job's outputs (job_status, notifications, dead letters) against the generator's ground
 * truth, shared by the MiniCluster ITCase and the standalone-cluster ITCase of the cluster module.
 */
public final class LifecycleAssertions {

    private LifecycleAssertions() {}


    /** The dead-letter reasons the injected lifecycle records must get (OUT_OF_ORDER records are accepted). */
    public static List<DeadLetterReason> expectedLifecycleDeadLetters(GroundTruth truth, TestStack stack) {
        return truth.injected().stream()
                .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                .map(GroundTruth.Injected::expectedReason)
                .toList();
    }

    /**
     * Every job_status row equals the ground truth's job (status, version, times, outcome); no other rows, except
     * ones whose job id starts with {@code orphan}.
     */
    public static void assertJobStatusEqualsGroundTruth(TestStack stack, GroundTruth truth) throws SQLException {
        Map<String, Map<String, Object>> rows = new HashMap<>();
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM job_status")) {
            while (rs.next()) {
                Map<String, Object> row = new HashMap<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                }
                rows.put(rs.getString("job_id"), row);
            }
        }
        List<String> mismatches = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            Map<String, Object> row = rows.remove(job.jobId());
            if (row == null) {
                mismatches.add(job.jobId() + ": no row");
                continue;
            }
            Map<String, Object> expected = new TreeMap<>();
            expected.put("status", job.finalStatus().name());
            expected.put("version", job.lifecycle().size());
            expected.put("user_id", job.userId());
            expected.put("hpc_system", job.hpcSystem());
            expected.put("queue", job.queue());
            expected.put("pipeline", job.pipeline());
            expected.put("submitted_at", job.submittedAt());
            expected.put("queued_at", job.queuedAt());
            expected.put("started_at", job.startedAt());
            expected.put("ended_at", job.endedAt());
            expected.put("queue_wait_ms", job.queueWaitMs());
            expected.put("run_ms", job.runMs());
            expected.put("error_code", job.errorCode());
            expected.put("exit_code", job.finalStatus() == LifecycleEventType.CANCELLED ? null : job.exitCode());
            expected.put("last_event_id", job.terminal().eventId());
            for (Map.Entry<String, Object> e : expected.entrySet()) {
                Object actual = row.get(e.getKey());
                if (actual instanceof Timestamp t) {
                    actual = t.toInstant().toEpochMilli();
                }
                Object wanted = e.getValue();
                boolean same = wanted instanceof Number w && actual instanceof Number a
                        ? w.longValue() == a.longValue() : Objects.equals(wanted, actual);
                if (!same) {
                    mismatches.add(job.jobId() + "." + e.getKey() + ": expected " + e.getValue() + " but was " + actual);
                }
            }
        }
        rows.keySet().forEach(extra -> {
            if (!extra.startsWith("orphan")) {
                mismatches.add(extra + ": unexpected row");
            }
        });
        assertEquals(List.of(), mismatches.stream().limit(20).toList(), mismatches.size() + " mismatches");
    }

    /** Exactly one committed notification per job end, of the right kind and id, on the topic and in the table. */
    public static void assertOneNotificationPerJobEnd(TestStack stack, GroundTruth truth) throws SQLException {
        List<Notification> committed = TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class,
                Notification.getClassSchema());
        Map<String, List<Notification>> byJob = committed.stream().collect(Collectors.groupingBy(Notification::getJobId));
        List<String> problems = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            List<Notification> mine = byJob.getOrDefault(job.jobId(), List.of());
            if (mine.size() != 1) {
                problems.add(job.jobId() + ": " + mine.size() + " notifications");
            } else if (mine.get(0).getKind() != job.finalStatus()
                    || !mine.get(0).getNotificationId().equals(Notifications.notificationId(job.jobId(), job.terminal().eventId()))) {
                problems.add(job.jobId() + ": wrong notification " + mine.get(0));
            }
        }
        assertEquals(List.of(), problems.stream().limit(20).toList(), problems.size() + " problems");
        assertEquals(truth.jobs().size(), committed.size(), "notifications on the topic");
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT job_id) FROM notifications")) {
            rs.next();
            assertEquals(truth.jobs().size(), rs.getLong(1), "rows in the notifications table");
            assertEquals(truth.jobs().size(), rs.getLong(2), "jobs in the notifications table");
        }
    }

    /** The dead-letter topic holds exactly the injected bad lifecycle records: same reason and key, same count. */
    public static void assertDeadLettersAreExactlyTheInjectedOnes(TestStack stack, GroundTruth truth) {
        assertDeadLettersAreExactlyTheInjectedOnes(stack, truth, dl -> true);
    }

    /**
     * As above, for the dead letters that {@code ofTheLifecycleJob} selects: where several jobs share the dead-letter
     * topic (the audit job dead-letters the same bad lifecycle records, with its own stage), the lifecycle job's.
     */
    public static void assertDeadLettersAreExactlyTheInjectedOnes(TestStack stack, GroundTruth truth,
            java.util.function.Predicate<DeadLetter> ofTheLifecycleJob) {
        Map<String, Long> expected = truth.injected().stream()
                .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                .collect(Collectors.groupingBy(i -> i.expectedReason() + "/" + i.key(), TreeMap::new,
                        Collectors.counting()));
        Map<String, Long> actual = stack.deadLetters().stream().filter(ofTheLifecycleJob)
                .collect(Collectors.groupingBy(dl -> dl.getReason() + "/" + key(dl),
                        TreeMap::new, Collectors.counting()));
        assertEquals(expected, actual);
    }

    private static String key(DeadLetter dl) {
        return dl.getSource().getKey() == null ? null
                : java.nio.charset.StandardCharsets.UTF_8.decode(dl.getSource().getKey().duplicate()).toString();
    }

    /** Committed notifications on the stack's notifications topic. */
    public static long countCommitted(TestStack stack) {
        return TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class, Notification.getClassSchema()).size();
    }

    /** job_status rows in a terminal state. */
    public static long finishedRows(TestStack stack) {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM job_status WHERE status IN ('COMPLETED','FAILED','CANCELLED')")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

}
