package io.cosmichorizons.pipeline.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.pipeline.audit.AuditJob;
import io.cosmichorizons.pipeline.audit.AuditJobConfig;
import io.cosmichorizons.pipeline.audit.AuditSinks;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJob;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJobConfig;
import io.cosmichorizons.pipeline.lifecycle.LifecycleSinks;
import io.cosmichorizons.pipeline.lifecycle.PreferenceDeserializer;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Slurm jobs, through the Slurm bridge (a separate process, killed and restarted mid-run, and facing a slurmctld
 * outage), the lifecycle and audit jobs on a MiniCluster, the real broker and PostgreSQL; checked against Slurm's own record of
 * every job ({@code scontrol show job -o}).
 */
@ExtendWith(RealServices.class)
class SlurmBridgeITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(8) // the lifecycle and the audit job side by side
            .build());

    private static final MacKey AUDIT_KEY = MacKey.of("slurm-it", "c2x1cm0gYnJpZGdlIGludGVncmF0aW9uIHRlc3Qga2V5");

    @TempDir
    Path work;

    /** Our jobs: Slurm job id -> what the test did with it. */
    private final Map<String, String> jobs = new LinkedHashMap<>();

    @Test
    void realSlurmJobsReachJobStatusAndNotificationsExactlyOnceAcrossABridgeCrashAndASlurmOutage() throws Exception {
        LocalSlurm slurm = LocalSlurm.start();
        TestStack stack = TestStack.create("slurm");
        String cluster = "it-" + RealServices.uniqueName("c").substring(2);
        String topic = stack.topic(Topics.JOB_LIFECYCLE);
        String correlation = UUID.randomUUID().toString();
        Path jobsDir = Files.createDirectories(work.resolve("jobs"));

        // The time-limit job takes 60-90 s: it goes first, the rest happens while it runs.
        String timeout = submit(slurm, jobsDir, "hits its 1-minute limit", "-J", "it-timeout", "--time=00:01:00",
                "--wrap", "sleep 300");

        LifecycleJobConfig config = LifecycleJobConfig.from(stack.settings());
        JobClient pipeline = startLifecycleJob(config);
        JobClient audit = startAuditJob(stack);
        List<String> bridgeArgs = List.of("--cluster", cluster, "--poll", "500ms",
                "--state-file", work.resolve("bridge-state.json").toString(), "--spool", slurm.spool.toString(),
                "--bootstrap-servers", RealServices.bootstrapServers(), "--topic-prefix", stack.prefix,
                "--max-backoff", "2s", "--sacct", "none");
        BridgeProcess first = BridgeProcess.start(work, "bridge-1", slurm.environment, bridgeArgs);
        BridgeProcess second = null;
        try {
            String exit0 = submit(slurm, jobsDir, "exits 0", "-J", "it-exit0", "--comment=corr:" + correlation,
                    "--wrap", "sleep 3; exit 0");
            String exit3 = submit(slurm, jobsDir, "exits 3", "-J", "it-exit3", "--wrap", "sleep 2; exit 3");
            String running = submit(slurm, jobsDir, "cancelled while running", "-J", "it-cancel-running",
                    "--wrap", "sleep 300");
            String held = submit(slurm, jobsDir, "held, cancelled while pending", "-J", "it-held", "--hold",
                    "--wrap", "sleep 300");
            String array = submit(slurm, jobsDir, "array of 2", "-J", "it-array", "--array=0-1", "--wrap", "sleep 2");
            jobs.remove(array);
            jobs.put(array + "_0", "array task 0");
            jobs.put(array + "_1", "array task 1");

            TestStack.await("the bridge to publish the running and the held job's progress", Duration.ofSeconds(60),
                    () -> steps(topic, cluster, running).contains(LifecycleEventType.RUNNING)
                            && steps(topic, cluster, timeout).contains(LifecycleEventType.RUNNING)
                            && steps(topic, cluster, held).contains(LifecycleEventType.QUEUED));

            // Crash the bridge; while it is down, jobs get cancelled, and a fast job runs from start to end.
            first.kill();
            slurm.scancel(running);
            slurm.scancel(held);
            String fast = submit(slurm, jobsDir, "runs while the bridge is down", "-J", "it-fast", "--wrap", "exit 0");
            TestStack.await("Slurm to finish the jobs submitted while the bridge is down", Duration.ofSeconds(60),
                    () -> stateIs(slurm, fast, "COMPLETED") && stateIs(slurm, running, "CANCELLED")
                            && stateIs(slurm, held, "CANCELLED"));

            second = BridgeProcess.start(work, "bridge-2", slurm.environment, bridgeArgs);
            BridgeProcess restarted = second;
            TestStack.await("the restarted bridge to catch up", Duration.ofSeconds(60),
                    () -> steps(topic, cluster, fast).contains(LifecycleEventType.COMPLETED)
                            && steps(topic, cluster, running).contains(LifecycleEventType.CANCELLED));

            // slurmctld goes away for a while (slurmd and the running time-limit job stay) and comes back.
            slurm.stopController();
            TestStack.await("the bridge to report the outage", Duration.ofSeconds(30),
                    () -> restarted.output().contains("slurmctld is unreachable"));
            slurm.restart();
            TestStack.await("the bridge to report that slurmctld is back", Duration.ofSeconds(30),
                    () -> restarted.output().contains("slurmctld answers again"));

            TestStack.await("every job to end in job_status and notifications", Duration.ofSeconds(150),
                    () -> endedRows(stack, cluster) >= jobs.size() && notifiedJobs(stack, cluster) >= jobs.size());
            long published = lifecycle(topic).size();
            TestStack.await("every published event to have its audit row", Duration.ofSeconds(60),
                    () -> count(stack, "SELECT count(*) FROM audit_events") >= published);
            second.stop(); // SIGTERM: the shutdown hook lets the current cycle finish
            String state = Files.readString(work.resolve("bridge-state.json"));
            assertTrue(!state.contains("\"pending\"") && state.contains("\"spoolPositioned\" : true"), state);
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
            pipeline.cancel().get();
            audit.cancel().get();
        }

        Map<String, List<JobLifecycleEvent>> events = eventsByJob(topic);
        assertEveryJobMatchesSlurm(slurm, stack, cluster, events, correlation);
        assertNoDuplicatesAndValidLifecycles(events);
        assertOneNotificationPerJob(stack, cluster);
        assertEveryEventAuditedOnceAndTheChainsVerify(stack, events);
        assertEquals(List.of(), stack.deadLetters().stream().map(DeadLetter::toString).toList(), "dead letters");
        assertHooksRecordedEveryEnd(slurm);
        String log = second.output();
        assertTrue(log.contains("slurmctld is unreachable") && log.contains("retrying with back-off"), log);
    }

    // ------------------------------------------------------------------------------------------ Slurm

    private String submit(LocalSlurm slurm, Path dir, String what, String... args) throws Exception {
        String id = slurm.sbatch(dir, args);
        jobs.put(id, what);
        return id;
    }

    private static boolean stateIs(LocalSlurm slurm, String jobId, String state) {
        try {
            return slurm.state(jobId).equals(state);
        } catch (Exception e) {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------ pipeline

    private static JobClient startLifecycleJob(LifecycleJobConfig config) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        PipelineEnvironment.configure(env, config.common());
        LifecycleJob.defineWorkflow(env, config,
                KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId()).build(),
                KafkaInputs.envelopes(config.common(), EventKind.PREFERENCES, List.of(config.preferencesTopic()), config.groupId() + "-p")
                        .setDeserializer(new PreferenceDeserializer(config.common())).build(),
                LifecycleSinks.production(config));
        return env.executeAsync("lifecycle-for-slurm");
    }

    private static JobClient startAuditJob(TestStack stack) throws Exception {
        AuditJobConfig config = AuditJobConfig.from(stack.settings()
                .with("topics.audit-trail", stack.topic(Topics.AUDIT_TRAIL))
                .with("audit.group-id", stack.prefix + "audit")
                .with("audit.mac-key", Base64.getEncoder().encodeToString(AUDIT_KEY.key()))
                .with("audit.mac-key-id", AUDIT_KEY.id()));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        PipelineEnvironment.configure(env, config.common());
        AuditJob.defineWorkflow(env, config,
                KafkaInputs.envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId()).build(),
                KafkaInputs.envelopes(config.common(), EventKind.AUDIT_TRAIL, List.of(config.auditTrailTopic()), config.groupId())
                        .setClientIdPrefix(config.groupId() + "-trail").build(),
                AuditSinks.production(config));
        return env.executeAsync("audit-for-slurm");
    }

    private static List<JobLifecycleEvent> lifecycle(String topic) {
        return TestStack.readAll(topic, JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema());
    }

    private static List<LifecycleEventType> steps(String topic, String cluster, String jobKey) {
        String jobId = "slurm:" + cluster + ":" + jobKey;
        return lifecycle(topic).stream().filter(e -> e.getJobId().equals(jobId))
                .map(JobLifecycleEvent::getEventType).toList();
    }

    /** Every event on the topic, per job, in topic order (one job is one partition). */
    private static Map<String, List<JobLifecycleEvent>> eventsByJob(String topic) {
        Map<String, List<JobLifecycleEvent>> byJob = new LinkedHashMap<>();
        for (JobLifecycleEvent e : lifecycle(topic)) {
            byJob.computeIfAbsent(e.getJobId(), k -> new ArrayList<>()).add(e);
        }
        return byJob;
    }

    private long endedRows(TestStack stack, String cluster) {
        return count(stack, "SELECT count(*) FROM job_status WHERE status IN ('COMPLETED','FAILED','CANCELLED') AND job_id IN ("
                + ourJobIds(cluster) + ")");
    }

    private long notifiedJobs(TestStack stack, String cluster) {
        Set<String> ours = jobs.keySet().stream().map(k -> "slurm:" + cluster + ":" + k).collect(Collectors.toSet());
        return TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class, Notification.getClassSchema())
                .stream().map(Notification::getJobId).filter(ours::contains).distinct().count();
    }

    private String ourJobIds(String cluster) {
        return jobs.keySet().stream().map(k -> "'slurm:" + cluster + ":" + k + "'").collect(Collectors.joining(","));
    }

    private static long count(TestStack stack, String sql) {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------ checks

    /** Every event the bridge published has exactly one ledger entry, and every chain verifies (hashes, links, MACs). */
    private static void assertEveryEventAuditedOnceAndTheChainsVerify(TestStack stack,
            Map<String, List<JobLifecycleEvent>> events) throws Exception {
        Map<String, Integer> audited = new HashMap<>();
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT event_id, job_id, event_type FROM audit_events")) {
            while (rs.next()) {
                audited.merge(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3), 1, Integer::sum);
            }
        }
        Map<String, Integer> expected = new HashMap<>();
        events.values().forEach(list -> list.forEach(e ->
                expected.merge(e.getEventId() + " " + e.getJobId() + " " + e.getEventType(), 1, Integer::sum)));
        assertEquals(new java.util.TreeMap<>(expected), new java.util.TreeMap<>(audited),
                "one audit entry per published event (event id, job id, type)");
        LedgerVerifier.Report report = new LedgerVerifier(stack.jdbcUrl,
                LedgerVerifier.Options.of(List.of(AUDIT_KEY), List.of())).verify();
        assertTrue(report.clean(), report::render);
        assertEquals(expected.size(), report.entries(), "entries verified");
    }

    /** job_status of every job equals Slurm's own final record: state, exit code, times, user, correlation. */
    private void assertEveryJobMatchesSlurm(LocalSlurm slurm, TestStack stack, String cluster,
            Map<String, List<JobLifecycleEvent>> events, String correlation) throws Exception {
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
        for (Map.Entry<String, String> job : jobs.entrySet()) {
            String jobId = "slurm:" + cluster + ":" + job.getKey();
            String label = job.getKey() + " (" + job.getValue() + ")";
            Map<String, String> truth = slurm.showJob(job.getKey());
            Map<String, Object> row = rows.get(jobId);
            if (row == null) {
                mismatches.add(label + ": no job_status row; Slurm says " + truth.get("JobState"));
                continue;
            }
            String state = truth.get("JobState");
            int exitCode = Integer.parseInt(truth.get("ExitCode").split(":")[0]);
            boolean ran = !truth.getOrDefault("NodeList", "").isEmpty() && !truth.get("NodeList").equals("(null)");
            Map<String, Object> expected = new LinkedHashMap<>();
            switch (state) {
                case "COMPLETED" -> {
                    expected.put("status", "COMPLETED");
                    expected.put("exit_code", exitCode);
                    expected.put("error_code", null);
                }
                case "CANCELLED" -> {
                    expected.put("status", "CANCELLED");
                    expected.put("exit_code", null); // CancelledDetails carries no exit code
                    expected.put("error_code", null);
                }
                default -> { // FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...
                    expected.put("status", "FAILED");
                    expected.put("exit_code", exitCode);
                    expected.put("error_code", state);
                }
            }
            expected.put("version", ran ? 4 : 3);
            expected.put("hpc_job_id", job.getKey());
            expected.put("hpc_system", cluster);
            expected.put("queue", truth.get("Partition"));
            expected.put("user_id", truth.get("UserId").replaceAll("\\(.*", ""));
            for (Map.Entry<String, Object> e : expected.entrySet()) {
                Object actual = row.get(e.getKey());
                Object wanted = e.getValue();
                boolean same = wanted instanceof Number w && actual instanceof Number a ? w.longValue() == a.longValue()
                        : java.util.Objects.equals(wanted, actual);
                if (!same) {
                    mismatches.add(label + "." + e.getKey() + ": Slurm says " + wanted + ", job_status has " + actual);
                }
            }
            // Times are Slurm's whole seconds, moved at most a few ms so that the steps are strictly ordered.
            checkTime(mismatches, label, "submitted_at", LocalSlurm.time(truth, "SubmitTime"), row.get("submitted_at"));
            checkTime(mismatches, label, "started_at", ran ? LocalSlurm.time(truth, "StartTime") : null, row.get("started_at"));
            checkTime(mismatches, label, "ended_at", LocalSlurm.time(truth, "EndTime"), row.get("ended_at"));

            List<LifecycleEventType> steps = events.getOrDefault(jobId, List.of()).stream()
                    .map(JobLifecycleEvent::getEventType).toList();
            if (steps.contains(LifecycleEventType.RUNNING) != ran) {
                mismatches.add(label + ": steps " + steps + " but Slurm says it " + (ran ? "ran" : "never ran"));
            }
        }
        // The job that ran entirely while the bridge was down: its QUEUED and RUNNING are flagged as synthesised.
        String fast = keyOf("runs while the bridge is down");
        Map<LifecycleEventType, String> producers = events.get("slurm:" + cluster + ":" + fast).stream()
                .collect(Collectors.toMap(JobLifecycleEvent::getEventType, JobLifecycleEvent::getProducer));
        assertEquals("slurm-bridge:" + cluster + ":synthesized", producers.get(LifecycleEventType.QUEUED), producers::toString);
        assertEquals("slurm-bridge:" + cluster + ":synthesized", producers.get(LifecycleEventType.RUNNING), producers::toString);
        assertEquals("slurm-bridge:" + cluster, producers.get(LifecycleEventType.COMPLETED), producers::toString);
        // Correlation: from --comment=corr:<id>, else derived; an array's tasks share their sbatch's.
        assertEquals(correlation, rows.get("slurm:" + cluster + ":" + keyOf("exits 0")).get("correlation_id"));
        String arrayTask = keyOf("array task 0");
        assertEquals("slurm:" + cluster + ":" + arrayTask.substring(0, arrayTask.indexOf('_')),
                rows.get("slurm:" + cluster + ":" + arrayTask).get("correlation_id"));
        assertEquals(List.of(), mismatches, mismatches.size() + " mismatches with Slurm's record");
    }

    private static void checkTime(List<String> mismatches, String label, String column, Instant slurm, Object actual) {
        Instant value = actual == null ? null : ((Timestamp) actual).toInstant();
        if (slurm == null || value == null) {
            if (slurm != value) {
                mismatches.add(label + "." + column + ": Slurm says " + slurm + ", job_status has " + value);
            }
            return;
        }
        long shift = value.toEpochMilli() - slurm.toEpochMilli();
        if (shift < 0 || shift > 3) {
            mismatches.add(label + "." + column + ": Slurm says " + slurm + ", job_status has " + value);
        }
    }

    private String keyOf(String what) {
        return jobs.entrySet().stream().filter(e -> e.getValue().equals(what)).findFirst().orElseThrow().getKey();
    }

    /**
     * Every job on the topic (ours, and any other job squeue listed): no event twice, and its steps in a valid order
     * (SUBMITTED, QUEUED, [RUNNING], end) with strictly increasing times.
     */
    private static void assertNoDuplicatesAndValidLifecycles(Map<String, List<JobLifecycleEvent>> events) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<JobLifecycleEvent>> job : events.entrySet()) {
            List<JobLifecycleEvent> list = job.getValue();
            Set<String> ids = new HashSet<>();
            list.forEach(e -> ids.add(e.getEventId()));
            if (ids.size() != list.size()) {
                problems.add(job.getKey() + ": " + list.size() + " events, " + ids.size() + " distinct ids");
            }
            List<LifecycleEventType> steps = list.stream().map(JobLifecycleEvent::getEventType).toList();
            boolean valid = steps.size() >= 2 && steps.get(0) == LifecycleEventType.SUBMITTED
                    && steps.get(1) == LifecycleEventType.QUEUED
                    && (steps.size() == 2 || (steps.size() == 3 && steps.get(2) != LifecycleEventType.COMPLETED)
                            || (steps.size() == 4 && steps.get(2) == LifecycleEventType.RUNNING
                                    && steps.get(3) != LifecycleEventType.RUNNING));
            if (!valid) {
                problems.add(job.getKey() + ": invalid lifecycle " + steps);
            }
            for (int i = 1; i < list.size(); i++) {
                if (!list.get(i).getOccurredAt().isAfter(list.get(i - 1).getOccurredAt())) {
                    problems.add(job.getKey() + ": " + steps.get(i) + " not after " + steps.get(i - 1));
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    private void assertOneNotificationPerJob(TestStack stack, String cluster) {
        Map<String, Long> perJob = TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class,
                Notification.getClassSchema()).stream().collect(Collectors.groupingBy(Notification::getJobId, Collectors.counting()));
        for (String key : jobs.keySet()) {
            assertEquals(1L, perJob.getOrDefault("slurm:" + cluster + ":" + key, 0L), key + " (" + jobs.get(key) + ")");
        }
        perJob.forEach((job, n) -> assertEquals(1L, n, job));
        assertEquals(jobs.size(), count(stack, "SELECT count(*) FROM notifications WHERE job_id IN (" + ourJobIds(cluster) + ")"));
    }

    /** The hook scripts ran: the spool has a jobcomp record for every job. */
    private void assertHooksRecordedEveryEnd(LocalSlurm slurm) throws Exception {
        String spool = Files.readString(slurm.spool);
        for (Map.Entry<String, String> job : jobs.entrySet()) {
            String key = job.getKey();
            String pattern = key.contains("_")
                    ? "\"array_job_id\":\"" + key.substring(0, key.indexOf('_')) + "\",\"array_task_id\":\"" + key.substring(key.indexOf('_') + 1) + "\""
                    : "\"job_id\":\"" + key + "\",\"array_job_id\":\"0\"";
            assertTrue(spool.lines().anyMatch(l -> l.startsWith("{\"hook\":\"jobcomp\"") && l.contains(pattern)),
                    "no jobcomp record for " + key + " (" + job.getValue() + ")");
        }
    }
}
