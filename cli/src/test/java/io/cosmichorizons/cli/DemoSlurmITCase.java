package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.pipeline.slurm.LocalSlurm;
import io.cosmichorizons.testbed.Ports;
import io.cosmichorizons.testbed.RealServices;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bin/horizons demo --slurm}, bounded: real sbatch jobs on the machine's single-node Slurm reach job_status and
 * the notifications through the Slurm bridge and the pipeline, each ended as Slurm itself ended it. Like
 * SlurmBridgeITCase it is skipped only where Slurm cannot be installed, and fails instead under CI.
 */
@ExtendWith(RealServices.class)
class DemoSlurmITCase {
    /** The demo submits its first jobs as soon as the bridge runs; the first ones end within about 25 s. */
    private static final String DURATION = "35s";
    /** A job that ended this close to the demo's end may still lack its notification when the pipeline stops. */
    private static final Duration NOTIFICATION_GRACE = Duration.ofSeconds(5);

    private record Row(String jobId, String status, Integer exitCode, String errorCode, Instant endedAt) {}

    @Test
    void realSlurmJobsReachJobStatusAndNotificationsAsSlurmEndedThem() throws Exception {
        LocalSlurm slurm = LocalSlurm.start();
        // The demo's own Kafka, but a database of the test's, so that the tables outlive the bounded run.
        String jdbcUrl = RealServices.freshDatabase("demo_slurm");
        Instant started = Instant.now().minusSeconds(1); // Slurm's SubmitTime has whole seconds
        DemoRun demo = DemoRun.start("--slurm", "--duration", DURATION, "--summary-every", "5s",
                "--web-port", String.valueOf(Ports.freePort()),
                "--kafka-port", String.valueOf(Ports.freePort()),
                "--jdbc-url", jdbcUrl);
        int exit = demo.awaitExit(Duration.ofMinutes(4));
        Instant ended = Instant.now();
        String out = demo.output();
        assertEquals(0, exit, out);
        assertTrue(out.contains("Slurm bridge: cluster 'local', jobs appear as slurm:local:<jobid>"), out);
        assertTrue(!out.contains("Generator:"), "--slurm replaces the generator:\n" + out);
        Matcher summary = Pattern.compile("slurm (\\d+) sbatch jobs submitted, (\\d+) lifecycle events published").matcher(out);
        int submitted = 0;
        while (summary.find()) {
            submitted = Integer.parseInt(summary.group(1));
        }
        assertTrue(submitted >= 5, "sbatch jobs the demo submitted: " + submitted + "\n" + out);

        // This run's jobs: named horizons-demo-<pipeline> by the demo, submitted since the test began.
        List<Row> rows = jobStatus(jdbcUrl, started);
        assertTrue(rows.size() >= 5, "job_status rows of this run's Slurm jobs: " + rows + "\n" + out);
        List<Row> endedJobs = rows.stream()
                .filter(r -> List.of("COMPLETED", "FAILED", "CANCELLED").contains(r.status())).toList();
        // The demo's seeded mix starts with a job that exits 0 after 23 s and one that exits 3 after 7 s.
        assertTrue(endedJobs.stream().anyMatch(r -> r.status().equals("COMPLETED")
                && Integer.valueOf(0).equals(r.exitCode())), rows::toString);
        assertTrue(endedJobs.stream().anyMatch(r -> r.status().equals("FAILED") && "FAILED".equals(r.errorCode())
                && Integer.valueOf(3).equals(r.exitCode())), rows::toString);

        Map<String, Integer> notifications = notificationsPerJob(jdbcUrl);
        for (Row row : endedJobs) {
            String slurmId = row.jobId().substring("slurm:local:".length());
            Map<String, String> truth = slurm.showJob(slurmId);
            String state = truth.get("JobState");
            assertEquals(statusOf(state), row.status(), row + " vs Slurm " + truth);
            if (row.status().equals("COMPLETED") || "FAILED".equals(state)) {
                assertEquals(Integer.parseInt(truth.get("ExitCode").split(":")[0]), row.exitCode(),
                        row + " vs Slurm " + truth);
            }
            int notified = notifications.getOrDefault(row.jobId(), 0);
            if (row.endedAt().isBefore(ended.minus(NOTIFICATION_GRACE))) {
                assertEquals(1, notified, "notifications of " + row);
            } else {
                assertTrue(notified <= 1, "notifications of " + row + ": " + notified);
            }
        }
        rows.stream().filter(r -> !endedJobs.contains(r)).forEach(r ->
                assertEquals(0, notifications.getOrDefault(r.jobId(), 0), "a job that has not ended: " + r));
    }

    /** The lifecycle status Slurm's final state maps to (README, "State mapping"). */
    private static String statusOf(String slurmState) {
        return switch (slurmState) {
            case "COMPLETED" -> "COMPLETED";
            case "CANCELLED" -> "CANCELLED";
            default -> "FAILED"; // FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE, PREEMPTED
        };
    }

    private static List<Row> jobStatus(String jdbcUrl, Instant submittedSince) throws Exception {
        List<Row> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); PreparedStatement s = c.prepareStatement("""
                SELECT job_id, status, exit_code, error_code, ended_at FROM job_status
                WHERE job_id LIKE 'slurm:local:%' AND pipeline LIKE 'horizons-demo-%' AND submitted_at >= ?
                ORDER BY submitted_at, job_id""")) {
            s.setTimestamp(1, Timestamp.from(submittedSince));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Integer exitCode = rs.getObject(3) == null ? null : rs.getInt(3);
                    Timestamp endedAt = rs.getTimestamp(5);
                    rows.add(new Row(rs.getString(1), rs.getString(2), exitCode, rs.getString(4),
                            endedAt == null ? null : endedAt.toInstant()));
                }
            }
        }
        return rows;
    }

    private static Map<String, Integer> notificationsPerJob(String jdbcUrl) throws Exception {
        Map<String, Integer> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); PreparedStatement s = c.prepareStatement(
                "SELECT job_id, count(*) FROM notifications WHERE job_id LIKE 'slurm:local:%' GROUP BY job_id");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getInt(2));
            }
        }
        return out;
    }
}
