package io.cosmichorizons.bench;

import io.cosmichorizons.pipeline.InProcessFlink;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.waiting.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;

/**
 * Runs pipeline jobs over preloaded topics from offset 0 until every consumer group has committed the end of its
 * inputs (so every output of every record is committed), sampling committed progress, lag, memory and state size.
 */
final class PipelineDrain {
    private PipelineDrain() {}

    /** Jobs to run and what they read. */
    record Plan(List<PipelineJob> jobs, Settings settings, Map<String, List<String>> groups) {}

    /** One sample; {@code heapAfterGcMb} is NaN unless the run forces collections. */
    record Sample(double seconds, Map<String, Lag.Progress> groups, double heapMb, double heapAfterGcMb, double rssMb,
            long stateBytes) {
        long lag() {
            return groups.values().stream().mapToLong(Lag.Progress::lag).sum();
        }
    }

    /**
     * @param inputRecords distinct input records (each counted once, however many jobs read it)
     * @param seconds from the submission of the jobs until the last group had committed everything
     * @param sustained input records per second between 10 % and 90 % of the slowest group's progress
     */
    record Result(long inputRecords, double seconds, double sustained, List<Sample> samples, Map<String, Long> totals) {
        double overall() {
            return inputRecords / seconds;
        }
    }

    static Result run(InProcessFlink flink, BenchStack stack, Plan plan, long inputRecords, Duration sampleEvery,
            boolean forceGc, Duration timeout, Consumer<String> log) throws Exception {
        Lag lag = new Lag(stack.admin(), plan.groups());
        Map<String, Long> totals = new LinkedHashMap<>();
        lag.progress().forEach((g, p) -> totals.put(g, p.committed() + p.lag()));
        List<Sample> samples = new ArrayList<>();
        long t0 = System.nanoTime();
        List<JobID> ids = flink.submitAll(plan.jobs(), plan.settings());
        String rest = flink.restUrl();
        double[] lastLog = {0};
        // Each poll takes one sample; the drain is done at the first sample with everything committed.
        boolean drained = Poll.until(timeout, sampleEvery, () -> {
            try {
                double t = (System.nanoTime() - t0) / 1e9;
                Map<String, Lag.Progress> p = lag.progress();
                boolean allRunning = true;
                for (JobID id : ids) {
                    JobStatus status = flink.miniCluster().getJobStatus(id).get(10, TimeUnit.SECONDS);
                    if (status.isGloballyTerminalState()) {
                        throw new IllegalStateException("Job " + id + " ended while draining: " + status);
                    }
                    allRunning &= status == JobStatus.RUNNING;
                }
                double heapAfterGc = forceGc ? Resources.heapAfterGcMb() : Double.NaN;
                // Checkpoint statistics exist once the job masters run.
                long state = allRunning ? Resources.stateBytes(rest, ids) : 0;
                Sample s = new Sample(t, p, Resources.heapUsedMb(), heapAfterGc, Resources.rssMb(), state);
                samples.add(s);
                if (s.lag() == 0 && p.entrySet().stream().allMatch(e -> e.getValue().committed() >= totals.get(e.getKey()))) {
                    return true;
                }
                if (t - lastLog[0] >= 5 || lastLog[0] == 0) {
                    lastLog[0] = Math.max(1e-9, t);
                    log.accept(progressLine(s, totals, samples));
                }
                return false;
            } catch (IllegalStateException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("Sampling the drain failed: " + e.getMessage(), e);
            }
        });
        if (Thread.interrupted()) {
            throw new InterruptedException("Interrupted while draining");
        }
        if (!drained) {
            throw new IllegalStateException("Not drained after " + timeout.toSeconds() + " s; lag "
                    + samples.get(samples.size() - 1).lag());
        }
        double done = samples.get(samples.size() - 1).seconds();
        log.accept(progressLine(samples.get(samples.size() - 1), totals, samples));
        for (JobID id : ids) {
            flink.cancel(id);
        }
        return new Result(inputRecords, done, sustained(samples, totals, inputRecords), samples, totals);
    }

    /** The slowest group's share of its input committed at a sample. */
    static double fraction(Sample s, Map<String, Long> totals) {
        double min = 1;
        for (var e : s.groups().entrySet()) {
            long total = totals.get(e.getKey());
            if (total > 0) {
                min = Math.min(min, (double) e.getValue().committed() / total);
            }
        }
        return min;
    }

    /** Input records per second between 10 % and 90 % progress (linear interpolation between samples). */
    static double sustained(List<Sample> samples, Map<String, Long> totals, long inputRecords) {
        return sustained(samples.stream().map(s -> new double[] {s.seconds(), fraction(s, totals)}).toList(), inputRecords);
    }

    /**
     * Records per second between 10 % and 90 % progress, from (seconds, fraction done) points in time order: the
     * steady rate, without start-up and the last checkpoint's wait. The Flink jobs and the baseline use the same one.
     */
    static double sustained(List<double[]> progress, long records) {
        double t10 = crossing(progress, 0.1);
        double t90 = crossing(progress, 0.9);
        return t90 > t10 ? 0.8 * records / (t90 - t10) : Double.NaN;
    }

    static double crossing(List<double[]> progress, double level) {
        double prevT = 0;
        double prevF = 0;
        for (double[] p : progress) {
            if (p[1] >= level) {
                return p[1] == prevF ? p[0] : prevT + (level - prevF) / (p[1] - prevF) * (p[0] - prevT);
            }
            prevT = p[0];
            prevF = p[1];
        }
        return Double.NaN;
    }

    private static String progressLine(Sample s, Map<String, Long> totals, List<Sample> samples) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  [%5.0fs]", s.seconds()));
        for (var e : s.groups().entrySet()) {
            long total = totals.get(e.getKey());
            if (total == 0) {
                continue;
            }
            b.append(String.format(Locale.ROOT, " %s %3.0f%% (lag %,d)", e.getKey().replaceFirst("^bench-[^-]+-", ""),
                    100.0 * e.getValue().committed() / total, e.getValue().lag()));
        }
        b.append(String.format(Locale.ROOT, " | heap %.0f MB, RSS %.0f MB", s.heapMb(), s.rssMb()));
        if (!Double.isNaN(s.heapAfterGcMb())) {
            b.append(String.format(Locale.ROOT, ", after GC %.0f MB", s.heapAfterGcMb()));
        }
        if (s.stateBytes() > 0) {
            b.append(String.format(Locale.ROOT, ", state %.1f MB", s.stateBytes() / 1048576.0));
        }
        return b.toString();
    }
}
