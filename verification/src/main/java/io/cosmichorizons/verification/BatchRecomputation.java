package io.cosmichorizons.verification;

import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.generator.GroundTruth;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metrics job's outputs recomputed in one batch pass from what was published: the samples read back from the
 * input topic and the generator's ground truth. Written independently of the job's code, straight from the rules in
 * the README, so that the comparison tests the job rather than restating it.
 */
public final class BatchRecomputation {
    public static final long MINUTE = 60_000;

    private BatchRecomputation() {}

    public record Window(long count, double cpuSum, double cpuMax, long rssPeak, long readDelta, long writeDelta) {}

    public record JobTotals(long samples, double cpuSeconds, Long peakRss, long read, long write) {}

    /** Per job: window start -> aggregate, and the job's totals. */
    public record JobMetrics(TreeMap<Long, Window> windows, JobTotals totals) {}

    public static Map<String, JobMetrics> perJob(List<JobMetricsEvent> samples) {
        Map<String, List<JobMetricsEvent>> byJob = new HashMap<>();
        samples.forEach(s -> byJob.computeIfAbsent(s.getJobId(), j -> new ArrayList<>()).add(s));
        Map<String, JobMetrics> out = new HashMap<>();
        byJob.forEach((job, list) -> {
            list.sort(Comparator.comparing(JobMetricsEvent::getSampledAt));
            TreeMap<Long, Window> windows = new TreeMap<>();
            long prevRead = 0;
            long prevWrite = 0;
            long prevRun = 0;
            double cpuSeconds = 0;
            long peak = 0;
            long read = 0;
            long write = 0;
            for (JobMetricsEvent s : list) {
                long t = s.getSampledAt().toEpochMilli();
                long start = Math.floorDiv(t, MINUTE) * MINUTE;
                // A counter below its predecessor was reset: its value is what was done since.
                long dr = s.getIoReadBytes() >= prevRead ? s.getIoReadBytes() - prevRead : s.getIoReadBytes();
                long dw = s.getIoWriteBytes() >= prevWrite ? s.getIoWriteBytes() - prevWrite : s.getIoWriteBytes();
                Window w = windows.getOrDefault(start, new Window(0, 0, 0, 0, 0, 0));
                windows.put(start, new Window(w.count() + 1, w.cpuSum() + s.getCpuPercent(),
                        Math.max(w.cpuMax(), s.getCpuPercent()), Math.max(w.rssPeak(), s.getMemoryRssBytes()),
                        w.readDelta() + dr, w.writeDelta() + dw));
                cpuSeconds += s.getCpuPercent() / 100 * Math.max(0, s.getExecutionTimeMs() - prevRun) / 1000.0;
                peak = Math.max(peak, s.getMemoryRssBytes());
                read += dr;
                write += dw;
                prevRead = s.getIoReadBytes();
                prevWrite = s.getIoWriteBytes();
                prevRun = s.getExecutionTimeMs();
            }
            out.put(job, new JobMetrics(windows, new JobTotals(list.size(), cpuSeconds, peak, read, write)));
        });
        return out;
    }

    // ------------------------------------------------------------------------------------------ fleet statistics

    public static final class Minute {
        public int submitted;
        public int started;
        public int completed;
        public int failed;
        public int cancelled;
        public int queuedDelta;
        public int runningDelta;
        public final List<Double> waits = new ArrayList<>();
        public final List<Double> runs = new ArrayList<>();

        boolean changed() {
            return submitted != 0 || started != 0 || completed != 0 || failed != 0 || cancelled != 0
                    || queuedDelta != 0 || runningDelta != 0 || !waits.isEmpty() || !runs.isEmpty();
        }
    }

    public record Row(long minute, Minute changes, long queued, long running) {}

    public record RateAlert(long openedAt, Long resolvedAt) {}

    /** Error-rate rule of one system. */
    public record RateRule(long windowMillis, double openAt, double resolveBelow, long minJobs) {}

    public record Fleet(Map<String, List<Row>> rows, Map<String, List<RateAlert>> errorAlerts) {}

    /** scope "system" or "user": the rows of every subject, and (for systems) the error-rate alerts. */
    public static Fleet fleet(GroundTruth truth, String scope, java.util.function.Function<String, RateRule> rules) {
        Map<String, TreeMap<Long, Minute>> changes = new HashMap<>();
        for (GroundTruth.Job job : truth.jobs()) {
            String subject = scope.equals("system") ? job.hpcSystem() : job.userId();
            TreeMap<Long, Minute> m = changes.computeIfAbsent(subject, s -> new TreeMap<>());
            minute(m, job.submittedAt()).submitted++;
            Long queued = job.queuedAt();
            Long started = job.startedAt();
            long ended = job.endedAt();
            if (queued != null) {
                minute(m, queued).queuedDelta++;
                long left = started != null ? started : ended;
                minute(m, left).queuedDelta--;
                minute(m, left).waits.add((double) job.queueWaitMs());
            }
            if (started != null) {
                minute(m, started).started++;
                minute(m, started).runningDelta++;
                minute(m, ended).runningDelta--;
                minute(m, ended).runs.add((double) job.runMs());
            }
            Minute end = minute(m, ended);
            switch (job.finalStatus()) {
                case COMPLETED -> end.completed++;
                case FAILED -> end.failed++;
                default -> end.cancelled++;
            }
        }
        Map<String, List<Row>> rows = new TreeMap<>();
        Map<String, List<RateAlert>> alerts = new TreeMap<>();
        changes.forEach((subject, minutes) -> {
            List<Row> out = new ArrayList<>();
            List<RateAlert> opened = new ArrayList<>();
            RateRule rule = scope.equals("system") ? rules.apply(subject) : null;
            TreeMap<Long, int[]> recent = new TreeMap<>(); // minute -> {completed, failed}
            long queued = 0;
            long running = 0;
            Long last = null;
            boolean open = false;
            while (!minutes.isEmpty() || (last != null && (queued > 0 || running > 0 || !recent.isEmpty() || open))) {
                long next = minutes.isEmpty() ? last + MINUTE
                        : last != null && (queued > 0 || running > 0 || !recent.isEmpty() || open)
                                ? Math.min(last + MINUTE, minutes.firstKey()) : minutes.firstKey();
                Minute c = minutes.containsKey(next) && minutes.firstKey() == next ? minutes.pollFirstEntry().getValue() : new Minute();
                boolean wasLive = queued > 0 || running > 0;
                queued += c.queuedDelta;
                running += c.runningDelta;
                if (c.changed() || wasLive) {
                    out.add(new Row(next, c, queued, running));
                }
                if (rule != null) {
                    if (c.completed != 0 || c.failed != 0) {
                        recent.put(next, new int[] {c.completed, c.failed});
                    }
                    recent.headMap(next + MINUTE - rule.windowMillis()).clear();
                    long completed = recent.values().stream().mapToLong(x -> x[0]).sum();
                    long failed = recent.values().stream().mapToLong(x -> x[1]).sum();
                    long ended = completed + failed;
                    double rate = ended == 0 ? 0 : (double) failed / ended;
                    if (!open && ended >= rule.minJobs() && ended > 0 && rate >= rule.openAt()) {
                        open = true;
                        opened.add(new RateAlert(next + MINUTE, null));
                    } else if (open && (ended == 0 || rate < rule.resolveBelow())) {
                        open = false;
                        RateAlert a = opened.remove(opened.size() - 1);
                        opened.add(new RateAlert(a.openedAt(), next + MINUTE));
                    }
                }
                last = next;
            }
            rows.put(subject, out);
            alerts.put(subject, opened);
        });
        return new Fleet(rows, alerts);
    }

    private static Minute minute(TreeMap<Long, Minute> m, long at) {
        return m.computeIfAbsent(Math.floorDiv(at, MINUTE) * MINUTE, x -> new Minute());
    }

    // ------------------------------------------------------------------------------------------ job alerts

    /** An expected alert episode of one job. */
    public record JobAlert(AlertType type, String jobId, long episodeStart, long openedAt, long resolvedAt) {}

    /**
     * The stuck-job and heartbeat alerts the ground truth calls for: a state held past its limit, or a gap between
     * heartbeats (start, samples, end) longer than the limit.
     */
    public static List<JobAlert> jobAlerts(GroundTruth truth, Map<String, List<Long>> sampleTimes, AlertRules rules) {
        List<JobAlert> out = new ArrayList<>();
        for (GroundTruth.Job job : truth.jobs()) {
            long submitTimeout = rules.submitTimeoutMs(job);
            long walltimeGrace = rules.walltimeGraceMs(job);
            long heartbeatLimit = rules.heartbeatLimitMs(job);
            long submitted = job.submittedAt();
            Long queued = job.queuedAt();
            Long started = job.startedAt();
            long ended = job.endedAt();
            long leftSubmitted = queued != null ? queued : ended;
            if (leftSubmitted - submitted > submitTimeout) {
                out.add(new JobAlert(AlertType.STUCK_SUBMITTED, job.jobId(), submitted, submitted + submitTimeout, leftSubmitted));
            }
            if (queued != null) {
                long left = started != null ? started : ended;
                long sla = rules.queueSlaMs(job);
                if (left - queued > sla) {
                    out.add(new JobAlert(AlertType.STUCK_QUEUED, job.jobId(), queued, queued + sla, left));
                }
            }
            if (started != null) {
                long limit = job.requestedWalltimeMs() + walltimeGrace;
                if (ended - started > limit) {
                    out.add(new JobAlert(AlertType.STUCK_RUNNING, job.jobId(), started, started + limit, ended));
                }
                List<Long> beats = new ArrayList<>();
                beats.add(started);
                beats.addAll(sampleTimes.getOrDefault(job.jobId(), List.of()));
                beats.add(ended);
                for (int i = 0; i + 1 < beats.size(); i++) {
                    if (beats.get(i + 1) - beats.get(i) > heartbeatLimit) {
                        out.add(new JobAlert(AlertType.MISSING_HEARTBEAT, job.jobId(), beats.get(i),
                                beats.get(i) + heartbeatLimit, beats.get(i + 1)));
                    }
                }
            }
        }
        return out;
    }

    /** Whether {@code value}, as the {@code rank}-quantile of {@code sorted}, is within {@code epsilon} in rank. */
    public static boolean withinRank(List<Double> sorted, double rank, double value, double epsilon) {
        int n = sorted.size();
        long below = sorted.stream().filter(x -> x < value).count();
        long atOrBelow = sorted.stream().filter(x -> x <= value).count();
        return (double) below / n - epsilon <= rank && rank <= (double) atOrBelow / n + epsilon;
    }

    public static boolean terminal(LifecycleEventType t) {
        return t == LifecycleEventType.COMPLETED || t == LifecycleEventType.FAILED || t == LifecycleEventType.CANCELLED;
    }
}
