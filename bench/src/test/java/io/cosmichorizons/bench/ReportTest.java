package io.cosmichorizons.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report, CSV and plot code on made-up results; no Kafka, PostgreSQL or Flink. */
class ReportTest {

    private static PipelineDrain.Sample sample(double t, long committed, long lag, double heapAfterGc) {
        return new PipelineDrain.Sample(t, Map.of("bench-x-e2e-audit", new Lag.Progress(committed, lag)), 100, heapAfterGc,
                500, 1_048_576L * (long) t);
    }

    private static PipelineDrain.Result drain() {
        List<PipelineDrain.Sample> samples = List.of(sample(0, 0, 1000, 80), sample(1, 0, 1000, 81), sample(2, 100, 900, 82),
                sample(3, 500, 500, 83), sample(4, 900, 100, 84), sample(5, 1000, 0, 84), sample(6, 1000, 0, 85));
        Map<String, Long> totals = Map.of("bench-x-e2e-audit", 1000L);
        return new PipelineDrain.Result(1000, 5, PipelineDrain.sustained(samples, totals, 1000), samples, totals);
    }

    @Test
    void sustainedRateInterpolatesBetweenTenAndNinetyPercent() {
        PipelineDrain.Result d = drain();
        // 10 % at t=2, 90 % at t=4: 800 records in 2 s.
        assertEquals(400, d.sustained(), 1e-9);
        assertEquals(200, d.overall(), 1e-9);
    }

    @Test
    void percentilesAreNearestRank() {
        double[] v = new double[100];
        Arrays.setAll(v, i -> i + 1);
        BenchResults.Percentiles p = BenchResults.Percentiles.of(v);
        assertEquals(50, p.p50());
        assertEquals(95, p.p95());
        assertEquals(99, p.p99());
        assertEquals(100, p.max());
        assertEquals(0, BenchResults.Percentiles.of(new double[0]).count());
    }

    @Test
    void firstAtLeastFindsTheTriggeringRecord() {
        long[] ts = {1, 3, 3, 7, 9};
        assertEquals(1, LatencyProbe.firstAtLeast(ts, 5, 2));
        assertEquals(3, LatencyProbe.firstAtLeast(ts, 5, 7));
        assertEquals(5, LatencyProbe.firstAtLeast(ts, 5, 10));
    }

    @Test
    void writesReportCsvsAndPlots(@TempDir Path dir) throws Exception {
        BenchResults r = new BenchResults();
        r.quick = true;
        r.machine.put("CPU", "test CPU, 2 cores");
        r.settings.put("PostgreSQL durability", "fsync=on, synchronous_commit=on");
        r.endToEnd = drain();
        r.flinkAudit = drain();
        r.baseline = new BaselineAuditConsumer.Result(1000, 990, 5, 5, 4,
                List.of(new double[] {1, 100}, new double[] {2, 500}, new double[] {3, 900}, new double[] {4, 1000}));
        r.latency.add(new BenchResults.LatencyCell(5_000, 200, 4_900, new double[] {120, 150, 300}, new double[0]));
        r.soak = drain();
        r.soakJobs = 100;
        r.micro = List.of(new Micro.Score("verifyEntry", 500_000, 1_000));

        Path md = Report.write(r, dir);

        String report = Files.readString(md, StandardCharsets.UTF_8);
        assertTrue(report.contains("| end-to-end events/s (sustained, 10-90 %) | 400 | >= 50,000 | **no** |"), report);
        assertTrue(report.contains("audit throughput / baseline ratio | 1.00 |"), report);
        assertTrue(report.contains("fsync=on"), report);
        assertTrue(report.contains("quick run"), report);
        assertTrue(report.contains("## Profiling (JDK Flight Recorder)"), report);
        Path data = dir.resolve(Report.DATA_DIR);
        for (String png : List.of("e2e_throughput.png", "e2e_lag.png", "latency_cdf_200ms.png", "soak_memory.png")) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(data.resolve(png)), 4);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head, png);
            assertTrue(report.contains("](" + Report.DATA_DIR + "/" + png + ")"), png);
        }
        List<String> latency = Files.readAllLines(data.resolve("latency.csv"));
        assertEquals("rate,checkpoint_ms,path,achieved_rate,count,p50_ms,p95_ms,p99_ms,max_ms", latency.get(0));
        assertEquals("5000,200,notification,4900,3,150,300,300,300", latency.get(1));
        assertEquals(1 + 3, Files.readAllLines(data.resolve("latency_samples.csv")).size());
        assertEquals("seconds,audit_committed,audit_lag,heap_mb,heap_after_gc_mb,rss_mb,state_mb",
                Files.readAllLines(data.resolve("e2e_progress.csv")).get(0));
        assertTrue(Files.readString(data.resolve("summary.csv")).contains("\"end-to-end events/s (sustained, 10-90 %)\",400,"));
        assertEquals(3, r.soakHeapGrowthMb(), 1e-9); // 85 at the end - 82 at the first sample at 10 %
    }

    @Test
    void verificationIsJudgedOnlyOnALedgerLargeEnoughToMeasureThroughput(@TempDir Path dir) throws Exception {
        BenchResults small = new BenchResults();
        small.verificationRowsPerSecond = 75_000;
        small.verifiedEntries = 32_533;
        small.verificationClean = true;
        String smallReport = Files.readString(Report.write(small, dir.resolve("small")), StandardCharsets.UTF_8);
        assertTrue(smallReport.contains("| audit verification rows/s (32,533 entries, clean; too small to judge the target, "
                + "see `audit bench-verify` in the README) | 75,000 |  |  |"), smallReport);
        assertTrue(smallReport.contains("**Not the full run**"), "a run that is neither quick nor full says so");

        BenchResults large = new BenchResults();
        large.verificationRowsPerSecond = 150_000;
        large.verifiedEntries = 800_000;
        large.verificationClean = true;
        String largeReport = Files.readString(Report.write(large, dir.resolve("large")), StandardCharsets.UTF_8);
        assertTrue(largeReport.contains("| audit verification rows/s (800,000 entries, clean) | 150,000 | >= 200,000 | **no** |"),
                largeReport);
    }

    @Test
    void csvQuotesTextWithCommas() {
        assertEquals("\"a,b\"", Report.Csv.cell("a,b"));
        assertEquals("1.500", Report.Csv.cell(1.5));
        assertEquals("2", Report.Csv.cell(2.0));
        assertEquals("", Report.Csv.cell(Double.NaN));
    }
}
