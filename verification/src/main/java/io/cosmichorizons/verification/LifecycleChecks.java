package io.cosmichorizons.verification;

import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.generator.GroundTruth;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;

/** The lifecycle job's outputs against the ground truth: job_status and the notifications (topic and table). */
public final class LifecycleChecks {

    public static final String JOB_STATUS = "job_status: one row per job, equal to the ground truth";
    public static final String NOTIFICATIONS_TOPIC = "notifications: exactly one per job end (topic, read_committed)";
    public static final String NOTIFICATIONS_TABLE = "notifications: exactly one row per job end (table)";

    private LifecycleChecks() {}

    public static List<Finding> check(GroundTruth truth, OutputSnapshot out) {
        return List.of(jobStatus(truth, out), notificationsTopic(truth, out), notificationsTable(truth, out));
    }

    /**
     * Every job_status row equals the ground truth's job (status, version, times, outcome); no other rows, except
     * ones whose job id starts with {@code orphan} (tests that publish lone events on purpose).
     */
    public static Finding jobStatus(GroundTruth truth, OutputSnapshot out) {
        Map<String, Map<String, Object>> rows = new HashMap<>();
        out.table(OutputSnapshot.JOB_STATUS).forEach(r -> rows.put((String) r.get("job_id"), r));
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
            Values.differingColumns(job.jobId(), expected, row, mismatches);
        }
        rows.keySet().stream().filter(extra -> !extra.startsWith("orphan")).sorted()
                .forEach(extra -> mismatches.add(extra + ": unexpected row"));
        return Finding.of(JOB_STATUS, truth.jobs().size() + " rows", out.table(OutputSnapshot.JOB_STATUS).size() + " rows",
                mismatches);
    }

    /** Exactly one committed notification per job end, of the job's final status and with the job end's id. */
    public static Finding notificationsTopic(GroundTruth truth, OutputSnapshot out) {
        Map<String, List<Notification>> byJob = out.notifications().stream()
                .collect(Collectors.groupingBy(Notification::getJobId));
        List<String> problems = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            List<Notification> mine = byJob.remove(job.jobId());
            if (mine == null || mine.size() != 1) {
                problems.add(job.jobId() + ": " + (mine == null ? 0 : mine.size()) + " notifications");
            } else if (mine.get(0).getKind() != job.finalStatus()
                    || !mine.get(0).getNotificationId().equals(notificationId(job))) {
                problems.add(job.jobId() + ": wrong notification " + mine.get(0));
            }
        }
        byJob.keySet().stream().sorted().forEach(extra -> problems.add(extra + ": notification of an unknown job"));
        return Finding.of(NOTIFICATIONS_TOPIC, truth.jobs().size() + " records", out.notifications().size() + " records",
                problems);
    }

    /** One notifications row per job end, with the job end's id and kind. */
    public static Finding notificationsTable(GroundTruth truth, OutputSnapshot out) {
        Map<String, List<Map<String, Object>>> byJob = out.table(OutputSnapshot.NOTIFICATIONS).stream()
                .collect(Collectors.groupingBy(r -> (String) r.get("job_id")));
        List<String> problems = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            List<Map<String, Object>> mine = byJob.remove(job.jobId());
            if (mine == null || mine.size() != 1) {
                problems.add(job.jobId() + ": " + (mine == null ? 0 : mine.size()) + " rows");
            } else if (!Objects.equals(mine.get(0).get("kind"), job.finalStatus().name())
                    || !Objects.equals(mine.get(0).get("notification_id"), notificationId(job))) {
                problems.add(job.jobId() + ": wrong row " + mine.get(0));
            }
        }
        byJob.keySet().stream().sorted().forEach(extra -> problems.add(extra + ": row of an unknown job"));
        return Finding.of(NOTIFICATIONS_TABLE, truth.jobs().size() + " rows",
                out.table(OutputSnapshot.NOTIFICATIONS).size() + " rows", problems);
    }

    /**
     * The notification id the contract promises: a name-based UUID of the job id and its terminal event id (written
     * out here from the contract, not taken from the job's code).
     */
    static String notificationId(GroundTruth.Job job) {
        return UUID.nameUUIDFromBytes(("notification/" + job.jobId() + "/" + job.terminal().eventId())
                .getBytes(StandardCharsets.UTF_8)).toString();
    }
}
