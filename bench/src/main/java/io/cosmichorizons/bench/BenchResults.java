package io.cosmichorizons.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Everything one bench run measured, filled in phase by phase; the report, CSVs and plots are made from it. */
final class BenchResults {
    /** Machine and settings, as label -> value, in order. */
    final Map<String, String> machine = new LinkedHashMap<>();
    final Map<String, String> settings = new LinkedHashMap<>();
    boolean quick;
    /** Every phase at the full workloads (not --quick, no workload option changed). */
    boolean fullRun;

    // (a) end to end
    PipelineDrain.Result endToEnd;
    Map<String, Long> endToEndTopics = new LinkedHashMap<>();
    double verificationRowsPerSecond = Double.NaN;
    long verifiedEntries;
    boolean verificationClean;

    // (b) audit job alone vs the baseline, on the same lifecycle records
    PipelineDrain.Result flinkAudit;
    BaselineAuditConsumer.Result baseline;

    // (c) latency
    final List<LatencyCell> latency = new ArrayList<>();

    // (d) soak
    PipelineDrain.Result soak;
    int soakJobs;

    // (e) JMH
    List<Micro.Score> micro = new ArrayList<>();

    /** Extra lines for the report's notes (what was skipped, failures of a phase). */
    final List<String> notes = new ArrayList<>();

    /** Latency percentiles of one output path, in milliseconds. */
    record Percentiles(long count, double p50, double p95, double p99, double max) {
        static Percentiles of(double[] sorted) {
            if (sorted.length == 0) {
                return new Percentiles(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            return new Percentiles(sorted.length, quantile(sorted, 0.50), quantile(sorted, 0.95), quantile(sorted, 0.99),
                    sorted[sorted.length - 1]);
        }

        /** Nearest-rank quantile of sorted values. */
        static double quantile(double[] sorted, double q) {
            int rank = (int) Math.ceil(q * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
        }
    }

    /** One latency measurement: input rate x checkpoint interval. */
    record LatencyCell(int rate, long checkpointMillis, double achievedRate, double[] notifications, double[] alerts) {
        Percentiles notificationPercentiles() {
            return Percentiles.of(notifications);
        }

        Percentiles alertPercentiles() {
            return Percentiles.of(alerts);
        }
    }

    double auditRatio() {
        return flinkAudit == null || baseline == null ? Double.NaN : flinkAudit.sustained() / baseline.sustained();
    }

    /** Heap after GC growth over the soak: last sample minus the first sample taken after 10 % of the input. */
    double soakHeapGrowthMb() {
        if (soak == null || soak.samples().isEmpty()) {
            return Double.NaN;
        }
        PipelineDrain.Sample base = null;
        for (PipelineDrain.Sample s : soak.samples()) {
            if (PipelineDrain.fraction(s, soak.totals()) >= 0.1) {
                base = s;
                break;
            }
        }
        PipelineDrain.Sample last = soak.samples().get(soak.samples().size() - 1);
        return base == null ? Double.NaN : last.heapAfterGcMb() - base.heapAfterGcMb();
    }
}
