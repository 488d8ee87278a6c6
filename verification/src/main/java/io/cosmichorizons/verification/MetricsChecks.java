package io.cosmichorizons.verification;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.generator.GroundTruth;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.kll.KllSketch;
import org.apache.datasketches.memory.Memory;

/**
 * The metrics job's outputs against a {@link BatchRecomputation} from the published samples and the ground truth:
 * windows (table and topic), summaries, fleet statistics per system and per user, and alerts. Expects complete
 * output: the job ran to the end of its input (a bounded run, or a stop with drain), so every window and minute fired.
 */
public final class MetricsChecks {

    public static final String WINDOWS_TABLE = "metrics windows: one job_metrics_1m row per job and minute with samples, equal to the recomputation";
    public static final String WINDOWS_TOPIC = "metrics windows: each exactly once on metrics-aggregates (read_committed), equal";
    public static final String SUMMARIES = "job summaries: one per ended job, equal to the recomputation";
    public static final String FLEET_SYSTEM = "fleet statistics per system: every minute, counts exact, percentiles within the KLL rank error";
    public static final String FLEET_USER = "fleet statistics per user: every minute, counts exact, percentiles within the KLL rank error";
    public static final String FLEET_MERGED = "fleet statistics: the stored minute sketches merge into the run's median queue wait";
    public static final String JOB_ALERTS = "alerts (stuck jobs, heartbeats): each expected episode once OPEN and once RESOLVED, no others";
    public static final String JOB_ALERTS_TABLE = "alerts table (stuck jobs, heartbeats): one RESOLVED row per expected episode, with its subject and times";
    public static final String ERROR_RATE_ALERTS = "alerts (error rate): the recomputed episodes, with their open and resolve times";
    public static final String ERROR_RATE_ALERTS_TABLE = "alerts table (error rate): one row per recomputed episode, with its state, subject and times";
    public static final String ALERTS_NO_DUPLICATES = "alerts: no duplicates (per alert id at most one OPEN and one RESOLVED, in that order)";

    private static final Set<AlertType> JOB_ALERT_TYPES = Set.of(AlertType.STUCK_SUBMITTED, AlertType.STUCK_QUEUED,
            AlertType.STUCK_RUNNING, AlertType.MISSING_HEARTBEAT);

    private MetricsChecks() {}

    public static List<Finding> check(PublishedInputs in, OutputSnapshot out, AlertRules rules) {
        Map<String, BatchRecomputation.JobMetrics> perJob = BatchRecomputation.perJob(new ArrayList<>(in.samples()));
        List<Finding> findings = new ArrayList<>();
        findings.add(windowsTable(perJob, out));
        findings.add(windowsTopic(perJob, out));
        findings.add(summaries(in.truth(), perJob, out));
        findings.addAll(fleet(in.truth(), out, rules));
        findings.addAll(jobAlerts(in, out, rules));
        findings.add(alertsWithoutDuplicates(out));
        return findings;
    }

    // ------------------------------------------------------------------------------------------ windows

    /** The columns of a window's row and record, in the order of the contract (MetricsAggregate.avsc). */
    static final List<String> WINDOW_COLUMNS = List.of("window_end", "sample_count", "cpu_avg", "cpu_max",
            "rss_peak_bytes", "io_read_delta_bytes", "io_write_delta_bytes", "io_read_rate_bps", "io_write_rate_bps");

    /** Per {@code job@window_start}: every column of the window, recomputed (rates per second of the 1-min window). */
    static Map<String, Map<String, Object>> expectedWindows(Map<String, BatchRecomputation.JobMetrics> perJob) {
        Map<String, Map<String, Object>> wanted = new TreeMap<>();
        perJob.forEach((job, m) -> m.windows().forEach((start, w) -> wanted.put(job + "@" + start, columns(List.of(
                start + BatchRecomputation.MINUTE, w.count(), w.cpuSum() / w.count(), w.cpuMax(), w.rssPeak(),
                w.readDelta(), w.writeDelta(), w.readDelta() / 60.0, w.writeDelta() / 60.0)))));
        return wanted;
    }

    private static Map<String, Object> columns(List<Object> values) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < WINDOW_COLUMNS.size(); i++) {
            m.put(WINDOW_COLUMNS.get(i), values.get(i));
        }
        return m;
    }

    private static Map<String, Object> columns(MetricsAggregate a) {
        return columns(List.of(a.getWindowEnd().toEpochMilli(), a.getSampleCount(), a.getCpuAvg(), a.getCpuMax(),
                a.getRssPeakBytes(), a.getIoReadDeltaBytes(), a.getIoWriteDeltaBytes(), a.getIoReadRateBps(),
                a.getIoWriteRateBps()));
    }

    public static Finding windowsTable(Map<String, BatchRecomputation.JobMetrics> perJob, OutputSnapshot out) {
        Map<String, Map<String, Object>> wanted = expectedWindows(perJob);
        Map<String, Map<String, Object>> rows = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> r : out.table(OutputSnapshot.JOB_METRICS_1M)) {
            String key = r.get("job_id") + "@" + r.get("window_start");
            if (rows.put(key, r) != null) {
                problems.add(key + ": two rows");
            }
        }
        wanted.forEach((key, w) -> {
            Map<String, Object> got = rows.remove(key);
            if (got == null) {
                problems.add(key + ": no row");
            } else {
                Values.differingColumns(key, w, got, problems);
            }
        });
        rows.keySet().forEach(key -> problems.add(key + ": unexpected row"));
        return Finding.of(WINDOWS_TABLE, wanted.size() + " windows", out.table(OutputSnapshot.JOB_METRICS_1M).size()
                + " rows", problems);
    }

    public static Finding windowsTopic(Map<String, BatchRecomputation.JobMetrics> perJob, OutputSnapshot out) {
        Map<String, Map<String, Object>> wanted = expectedWindows(perJob);
        Map<String, List<MetricsAggregate>> byWindow = out.aggregates().stream().collect(Collectors.groupingBy(
                a -> a.getJobId() + "@" + a.getWindowStart().toEpochMilli(), TreeMap::new, Collectors.toList()));
        List<String> problems = new ArrayList<>();
        wanted.forEach((key, w) -> {
            List<MetricsAggregate> got = byWindow.remove(key);
            if (got == null || got.size() != 1) {
                problems.add(key + ": " + (got == null ? 0 : got.size()) + " records");
            } else {
                Values.differingColumns(key, w, columns(got.get(0)), problems);
            }
        });
        byWindow.keySet().forEach(key -> problems.add(key + ": unexpected record"));
        return Finding.of(WINDOWS_TOPIC, wanted.size() + " records", out.aggregates().size() + " records", problems);
    }

    // ------------------------------------------------------------------------------------------ summaries

    public static Finding summaries(GroundTruth truth, Map<String, BatchRecomputation.JobMetrics> perJob,
            OutputSnapshot out) {
        Map<String, Map<String, Object>> rows = new HashMap<>();
        out.table(OutputSnapshot.JOB_SUMMARY).forEach(r -> rows.put((String) r.get("job_id"), r));
        List<String> problems = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            Map<String, Object> row = rows.remove(job.jobId());
            if (row == null) {
                problems.add(job.jobId() + ": no summary");
                continue;
            }
            BatchRecomputation.JobTotals t = perJob.containsKey(job.jobId()) ? perJob.get(job.jobId()).totals()
                    : new BatchRecomputation.JobTotals(0, 0, null, 0, 0);
            Double efficiency = job.runMs() == null || job.runMs() == 0 ? null
                    : t.cpuSeconds() / (job.requestedCores() * (job.runMs() / 1000.0));
            Map<String, Object> want = new TreeMap<>();
            want.put("final_status", job.finalStatus().name());
            want.put("queue_wait_ms", job.queueWaitMs());
            want.put("run_ms", job.runMs());
            want.put("sample_count", t.samples());
            want.put("late_sample_count", 0L);
            want.put("peak_rss_bytes", t.samples() == 0 ? null : t.peakRss());
            want.put("io_read_bytes", t.read());
            want.put("io_write_bytes", t.write());
            want.put("cpu_seconds", t.cpuSeconds());
            want.put("efficiency", efficiency);
            want.put("hpc_system", job.hpcSystem());
            want.put("queue", job.queue());
            Values.differingColumns(job.jobId(), want, row, problems);
        }
        rows.keySet().forEach(extra -> problems.add(extra + ": summary of an unknown job"));
        return Finding.of(SUMMARIES, truth.jobs().size() + " summaries", out.table(OutputSnapshot.JOB_SUMMARY).size()
                + " rows", problems);
    }

    // ------------------------------------------------------------------------------------------ fleet

    static List<Finding> fleet(GroundTruth truth, OutputSnapshot out, AlertRules rules) {
        double epsilon = KllSketch.getNormalizedRankError(rules.sketchK(), false);
        List<Finding> findings = new ArrayList<>();
        BatchRecomputation.Fleet systems = null;
        for (String scope : List.of("system", "user")) {
            BatchRecomputation.Fleet expected = BatchRecomputation.fleet(truth, scope, rules::errorRate);
            Map<String, Map<String, Object>> rows = new TreeMap<>();
            out.table(OutputSnapshot.FLEET_STATS_1M).stream().filter(r -> scope.equals(r.get("scope")))
                    .forEach(r -> rows.put(r.get("subject") + "@" + r.get("minute_start"), r));
            int rowCount = rows.size();
            List<String> problems = new ArrayList<>();
            int expectedRows = 0;
            List<Double> allWaits = new ArrayList<>();
            KllDoublesSketch merged = KllDoublesSketch.newHeapInstance(rules.sketchK());
            for (Map.Entry<String, List<BatchRecomputation.Row>> e : expected.rows().entrySet()) {
                for (BatchRecomputation.Row want : e.getValue()) {
                    expectedRows++;
                    String key = e.getKey() + "@" + want.minute();
                    Map<String, Object> got = rows.remove(key);
                    if (got == null) {
                        problems.add(key + ": no row");
                        continue;
                    }
                    BatchRecomputation.Minute c = want.changes();
                    List<Long> w = List.of((long) c.submitted, (long) c.started, (long) c.completed, (long) c.failed,
                            (long) c.cancelled, want.queued(), want.running(), (long) c.waits.size(), (long) c.runs.size());
                    List<Long> counts = new ArrayList<>();
                    for (String column : List.of("submitted", "started", "completed", "failed", "cancelled", "queued",
                            "running", "queue_wait_count", "run_count")) {
                        counts.add(((Number) got.get(column)).longValue());
                    }
                    if (!w.equals(counts)) {
                        problems.add(key + ": expected " + w + " but was " + counts);
                    }
                    checkQuantiles(key + " queue wait", c.waits, quantiles(got, "queue_wait"), epsilon, problems);
                    checkQuantiles(key + " run", c.runs, quantiles(got, "run"), epsilon, problems);
                    if (scope.equals("system")) {
                        allWaits.addAll(c.waits);
                        Object sketch = got.get("queue_wait_sketch");
                        if (sketch != null) {
                            merged.merge(KllDoublesSketch.heapify(Memory.wrap(HexFormat.of().parseHex((String) sketch))));
                        }
                    }
                }
            }
            rows.keySet().forEach(key -> problems.add(key + ": unexpected row"));
            findings.add(Finding.of(scope.equals("system") ? FLEET_SYSTEM : FLEET_USER, expectedRows + " rows",
                    rowCount + " rows", problems));
            if (scope.equals("system")) {
                systems = expected;
                allWaits.sort(null);
                boolean within = allWaits.isEmpty() ? merged.isEmpty()
                        : merged.getN() == allWaits.size()
                                && BatchRecomputation.withinRank(allWaits, 0.5, merged.getQuantile(0.5), epsilon);
                findings.add(Finding.holds(FLEET_MERGED, within, allWaits.size() + " waits, median within "
                        + String.format("%.4f", epsilon) + " in rank", merged.getN() + " waits, median "
                        + (merged.isEmpty() ? "none" : merged.getQuantile(0.5))));
            }
        }
        findings.add(errorRateAlerts(out, systems.errorAlerts()));
        findings.add(errorRateAlertsTable(out, systems.errorAlerts()));
        return findings;
    }

    private static Double[] quantiles(Map<String, Object> row, String prefix) {
        return new Double[] {number(row.get(prefix + "_p50_ms")), number(row.get(prefix + "_p95_ms")),
                number(row.get(prefix + "_p99_ms"))};
    }

    private static Double number(Object o) {
        return o == null ? null : ((Number) o).doubleValue();
    }

    private static void checkQuantiles(String what, List<Double> values, Double[] got, double epsilon, List<String> out) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        double[] ranks = {0.5, 0.95, 0.99};
        for (int i = 0; i < ranks.length; i++) {
            if (sorted.isEmpty() ? got[i] != null
                    : got[i] == null || !BatchRecomputation.withinRank(sorted, ranks[i], got[i], epsilon)) {
                out.add(what + " p" + (int) (ranks[i] * 100) + " = " + got[i] + " for " + sorted.size() + " values");
            }
        }
    }

    static Finding errorRateAlerts(OutputSnapshot out, Map<String, List<BatchRecomputation.RateAlert>> expected) {
        List<String> wanted = new ArrayList<>();
        expected.forEach((system, list) -> list.forEach(a -> wanted.add(alertId(AlertType.ERROR_RATE, system,
                a.openedAt()) + " " + a.openedAt() + " " + a.resolvedAt())));
        List<String> got = new ArrayList<>();
        alertsById(out, Set.of(AlertType.ERROR_RATE)).forEach((id, records) -> {
            Alert resolved = records.size() > 1 ? records.get(1) : null;
            got.add(id + " " + records.get(0).getOpenedAt().toEpochMilli() + " "
                    + (resolved == null || resolved.getResolvedAt() == null ? null : resolved.getResolvedAt().toEpochMilli()));
        });
        wanted.sort(null);
        got.sort(null);
        List<String> problems = new ArrayList<>();
        wanted.stream().filter(w -> !got.contains(w)).forEach(w -> problems.add("missing " + w));
        got.stream().filter(g -> !wanted.contains(g)).forEach(g -> problems.add("unexpected " + g));
        return Finding.of(ERROR_RATE_ALERTS, wanted.size() + " episodes", got.size() + " episodes", problems);
    }

    /** The alerts rows of the recomputed error-rate episodes: OPEN until resolved, subject the system. */
    static Finding errorRateAlertsTable(OutputSnapshot out, Map<String, List<BatchRecomputation.RateAlert>> expected) {
        Map<String, Map<String, Object>> wanted = new TreeMap<>();
        expected.forEach((system, list) -> list.forEach(a -> wanted.put(alertId(AlertType.ERROR_RATE, system,
                a.openedAt()), alertRow(AlertType.ERROR_RATE, system, a.openedAt(), a.resolvedAt()))));
        return alertsTable(ERROR_RATE_ALERTS_TABLE, out, Set.of(AlertType.ERROR_RATE), wanted);
    }

    /** An alerts row as the README's alert lifecycle defines it: RESOLVED once it has a resolve time. */
    private static Map<String, Object> alertRow(AlertType type, String subject, long openedAt, Long resolvedAt) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("alert_type", type.name());
        row.put("subject", subject);
        row.put("state", resolvedAt == null ? AlertState.OPEN.name() : AlertState.RESOLVED.name());
        row.put("opened_at", openedAt);
        row.put("resolved_at", resolvedAt);
        return row;
    }

    /** The alerts rows of {@code types} are exactly {@code wanted} (alert id to columns). */
    private static Finding alertsTable(String check, OutputSnapshot out, Set<AlertType> types,
            Map<String, Map<String, Object>> wanted) {
        Map<String, Map<String, Object>> rows = new TreeMap<>();
        out.table(OutputSnapshot.ALERTS).stream()
                .filter(r -> types.stream().anyMatch(t -> t.name().equals(r.get("alert_type"))))
                .forEach(r -> rows.put((String) r.get("alert_id"), r));
        int rowCount = rows.size();
        List<String> problems = new ArrayList<>();
        wanted.forEach((id, want) -> {
            Map<String, Object> got = rows.remove(id);
            if (got == null) {
                problems.add(id + " (" + want.get("alert_type") + " " + want.get("subject") + "): no row");
                return;
            }
            Values.differingColumns(id, want, got, problems);
        });
        rows.forEach((id, r) -> problems.add(id + ": unexpected row (" + r.get("alert_type") + " " + r.get("subject")
                + " " + r.get("state") + ")"));
        return Finding.of(check, wanted.size() + " rows", rowCount + " rows", problems);
    }

    // ------------------------------------------------------------------------------------------ alerts

    static List<Finding> jobAlerts(PublishedInputs in, OutputSnapshot out, AlertRules rules) {
        Map<String, List<Long>> sampleTimes = new HashMap<>();
        in.samples().forEach(s -> sampleTimes.computeIfAbsent(s.getJobId(), j -> new ArrayList<>())
                .add(s.getSampledAt().toEpochMilli()));
        sampleTimes.values().forEach(l -> l.sort(null));
        List<BatchRecomputation.JobAlert> expected = BatchRecomputation.jobAlerts(in.truth(), sampleTimes, rules);

        Map<String, List<Alert>> topic = alertsById(out, JOB_ALERT_TYPES);
        int episodes = topic.size();
        List<String> problems = new ArrayList<>();
        for (BatchRecomputation.JobAlert want : expected) {
            String id = alertId(want.type(), want.jobId(), want.episodeStart());
            List<Alert> records = topic.remove(id);
            if (records == null) {
                problems.add(want + ": missing");
            } else if (records.size() != 2 || records.get(0).getState() != AlertState.OPEN
                    || records.get(1).getState() != AlertState.RESOLVED
                    || records.get(0).getOpenedAt().toEpochMilli() != want.openedAt()
                    || records.get(1).getResolvedAt().toEpochMilli() != want.resolvedAt()) {
                problems.add(want + ": " + records);
            }
        }
        topic.forEach((id, records) -> problems.add("unexpected " + records));
        Finding onTopic = Finding.of(JOB_ALERTS, expected.size() + " episodes", episodes + " episodes", problems);

        Map<String, Map<String, Object>> rows = new TreeMap<>();
        expected.forEach(want -> rows.put(alertId(want.type(), want.jobId(), want.episodeStart()),
                alertRow(want.type(), want.jobId(), want.openedAt(), want.resolvedAt())));
        return List.of(onTopic, alertsTable(JOB_ALERTS_TABLE, out, JOB_ALERT_TYPES, rows));
    }

    /** Every alert record on the topic: per id at most one OPEN, at most one RESOLVED, the OPEN first. */
    public static Finding alertsWithoutDuplicates(OutputSnapshot out) {
        Map<String, List<Alert>> byId = out.alerts().stream()
                .collect(Collectors.groupingBy(Alert::getAlertId, TreeMap::new, Collectors.toList()));
        List<String> problems = new ArrayList<>();
        byId.forEach((id, records) -> {
            List<AlertState> states = records.stream().map(Alert::getState).toList();
            if (!states.equals(List.of(AlertState.OPEN)) && !states.equals(List.of(AlertState.OPEN, AlertState.RESOLVED))) {
                problems.add(records.get(0).getAlertType() + " " + id + ": " + states);
            }
        });
        return Finding.of(ALERTS_NO_DUPLICATES, byId.size() + " alerts, no duplicates", out.alerts().size() + " records",
                problems);
    }

    /** Committed alert records of some types, by id, in topic order (one id is always on one partition). */
    static Map<String, List<Alert>> alertsById(OutputSnapshot out, Set<AlertType> types) {
        return out.alerts().stream().filter(a -> types.contains(a.getAlertType()))
                .collect(Collectors.groupingBy(Alert::getAlertId, TreeMap::new, Collectors.toList()));
    }

    /** The alert id the README promises: a name-based UUID of type, subject and episode start. */
    static String alertId(AlertType type, String subject, long episodeStart) {
        return UUID.nameUUIDFromBytes((type.name() + "|" + subject + "|" + episodeStart).getBytes(StandardCharsets.UTF_8))
                .toString();
    }
}
