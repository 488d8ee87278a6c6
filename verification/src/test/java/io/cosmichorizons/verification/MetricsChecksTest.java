package io.cosmichorizons.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The per-job windows (topic and table) and the alerts table rows on small hand-built outputs. */
class MetricsChecksTest {

    private static final long MINUTE_2 = 120_000;

    /**
     * Two samples of job-1 in the minute starting at 120 s: cpu 50 % and 150 %, RSS 100 and 300, read counters 600
     * and 1,200, write counters 1,200 and 1,800 (counters start at 0, so the first sample's values count whole).
     */
    private static final Map<String, BatchRecomputation.JobMetrics> PER_JOB = BatchRecomputation.perJob(new ArrayList<>(
            List.of(sample("s-1", MINUTE_2 + 5_000, 50, 100, 600, 1_200), sample("s-2", MINUTE_2 + 35_000, 150, 300,
                    1_200, 1_800))));

    /** The window as the README defines it, written out. */
    private static MetricsAggregate.Builder correctRecord() {
        return MetricsAggregate.newBuilder().setJobId("job-1").setWindowStart(Instant.ofEpochMilli(MINUTE_2))
                .setWindowEnd(Instant.ofEpochMilli(MINUTE_2 + 60_000)).setSampleCount(2).setCpuAvg(100).setCpuMax(150)
                .setRssPeakBytes(300).setIoReadDeltaBytes(1_200).setIoWriteDeltaBytes(1_800).setIoReadRateBps(20)
                .setIoWriteRateBps(30);
    }

    private static Map<String, Object> correctRow() {
        Map<String, Object> r = new HashMap<>();
        r.put("job_id", "job-1");
        r.put("window_start", MINUTE_2);
        r.put("window_end", MINUTE_2 + 60_000);
        r.put("sample_count", 2L);
        r.put("cpu_avg", 100.0);
        r.put("cpu_max", 150.0);
        r.put("rss_peak_bytes", 300L);
        r.put("io_read_delta_bytes", 1_200L);
        r.put("io_write_delta_bytes", 1_800L);
        r.put("io_read_rate_bps", 20.0);
        r.put("io_write_rate_bps", 30.0);
        return r;
    }

    @Test
    void theCorrectWindowPassesOnTheTopicAndInTheTable() {
        Finding topic = MetricsChecks.windowsTopic(PER_JOB, aggregates(correctRecord().build()));
        Finding table = MetricsChecks.windowsTable(PER_JOB, table(OutputSnapshot.JOB_METRICS_1M, correctRow()));
        assertTrue(topic.passed(), topic::toString);
        assertTrue(table.passed(), table::toString);
    }

    static Stream<Arguments> plantedRecordFields() {
        return Stream.of(
                Arguments.of("window_end", (Consumer<MetricsAggregate.Builder>) b -> b.setWindowEnd(Instant.ofEpochMilli(MINUTE_2 + 30_000))),
                Arguments.of("sample_count", (Consumer<MetricsAggregate.Builder>) b -> b.setSampleCount(3)),
                Arguments.of("cpu_avg", (Consumer<MetricsAggregate.Builder>) b -> b.setCpuAvg(50)),
                Arguments.of("cpu_max", (Consumer<MetricsAggregate.Builder>) b -> b.setCpuMax(100)),
                Arguments.of("rss_peak_bytes", (Consumer<MetricsAggregate.Builder>) b -> b.setRssPeakBytes(100)),
                Arguments.of("io_read_delta_bytes", (Consumer<MetricsAggregate.Builder>) b -> b.setIoReadDeltaBytes(600)),
                Arguments.of("io_write_delta_bytes", (Consumer<MetricsAggregate.Builder>) b -> b.setIoWriteDeltaBytes(600)),
                Arguments.of("io_read_rate_bps", (Consumer<MetricsAggregate.Builder>) b -> b.setIoReadRateBps(1_200)),
                Arguments.of("io_write_rate_bps", (Consumer<MetricsAggregate.Builder>) b -> b.setIoWriteRateBps(20)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plantedRecordFields")
    void aPlantedFieldOfAnAggregateRecordIsReported(String column, Consumer<MetricsAggregate.Builder> plant) {
        MetricsAggregate.Builder b = correctRecord();
        plant.accept(b);

        Finding f = MetricsChecks.windowsTopic(PER_JOB, aggregates(b.build()));

        assertEquals(1, f.differenceCount(), f::toString);
        assertTrue(f.differences().get(0).startsWith("job-1@" + MINUTE_2 + "." + column + ": expected "), f::toString);
    }

    @Test
    void aPlantedWriteRateOrWindowEndInTheTableIsReported() {
        Map<String, Object> row = correctRow();
        row.put("io_write_rate_bps", 20.0);
        row.put("window_end", MINUTE_2 + 30_000);

        Finding f = MetricsChecks.windowsTable(PER_JOB, table(OutputSnapshot.JOB_METRICS_1M, row));

        assertEquals(List.of("job-1@120000.window_end: expected 180000 but was 150000",
                "job-1@120000.io_write_rate_bps: expected 30.0 but was 20.0"), f.differences());
    }

    // ------------------------------------------------------------------------------------------ error-rate rows

    /** One resolved episode on setonix, one still open on magnus. */
    private static final Map<String, List<BatchRecomputation.RateAlert>> RATE_EPISODES = Map.of(
            "setonix", List.of(new BatchRecomputation.RateAlert(600_000, 1_200_000L)),
            "magnus", List.of(new BatchRecomputation.RateAlert(900_000, null)));

    private static List<Map<String, Object>> correctRateRows() {
        return new ArrayList<>(List.of(
                alertRow(id("ERROR_RATE|setonix|600000"), "ERROR_RATE", "setonix", "RESOLVED", 600_000L, 1_200_000L),
                alertRow(id("ERROR_RATE|magnus|900000"), "ERROR_RATE", "magnus", "OPEN", 900_000L, null),
                // Other alert types are other checks' business.
                alertRow(id("STUCK_QUEUED|job-9|5"), "STUCK_QUEUED", "job-9", "OPEN", 5L, null)));
    }

    @Test
    void theRecomputedErrorRateRowsPass() {
        Finding f = MetricsChecks.errorRateAlertsTable(table(OutputSnapshot.ALERTS, correctRateRows()), RATE_EPISODES);
        assertTrue(f.passed(), f::toString);
        assertEquals("2 rows", f.actual());
    }

    static Stream<Arguments> plantedRateRows() {
        String setonix = id("ERROR_RATE|setonix|600000");
        return Stream.of(
                Arguments.of("state", (Consumer<List<Map<String, Object>>>) rows -> rows.get(0).put("state", "OPEN"),
                        setonix + ".state: expected RESOLVED but was OPEN"),
                Arguments.of("resolved_at", (Consumer<List<Map<String, Object>>>) rows -> rows.get(0).put("resolved_at", null),
                        setonix + ".resolved_at: expected 1200000 but was null"),
                Arguments.of("opened_at", (Consumer<List<Map<String, Object>>>) rows -> rows.get(0).put("opened_at", 660_000L),
                        setonix + ".opened_at: expected 600000 but was 660000"),
                Arguments.of("subject", (Consumer<List<Map<String, Object>>>) rows -> rows.get(0).put("subject", "magnus"),
                        setonix + ".subject: expected setonix but was magnus"),
                Arguments.of("missing", (Consumer<List<Map<String, Object>>>) rows -> rows.remove(0),
                        setonix + " (ERROR_RATE setonix): no row"),
                Arguments.of("unexpected", (Consumer<List<Map<String, Object>>>) rows -> rows.add(alertRow(
                        id("ERROR_RATE|setonix|1800000"), "ERROR_RATE", "setonix", "OPEN", 1_800_000L, null)),
                        id("ERROR_RATE|setonix|1800000") + ": unexpected row (ERROR_RATE setonix OPEN)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plantedRateRows")
    void aPlantedErrorRateRowMismatchIsReported(String what, Consumer<List<Map<String, Object>>> plant, String reported) {
        List<Map<String, Object>> rows = correctRateRows();
        plant.accept(rows);

        Finding f = MetricsChecks.errorRateAlertsTable(table(OutputSnapshot.ALERTS, rows), RATE_EPISODES);

        assertEquals(List.of(reported), f.differences());
    }

    // ------------------------------------------------------------------------------------------ job alert rows

    /** A job queued at 1 s that starts two hours later: one STUCK_QUEUED episode, opened at the 1 h SLA. */
    @Test
    void aStuckJobRowIsComparedWithItsTimes() {
        GroundTruth truth = truth(new GroundTruth.Job("job-1", "alice", "setonix", "work", "imaging", 4, 1L << 30,
                86_400_000, "4711", LifecycleEventType.COMPLETED, 0, null, null, null, 120_000L, "s3://out", null, null,
                List.of(new GroundTruth.Step("e-1", LifecycleEventType.SUBMITTED, 0, "c-1"),
                        new GroundTruth.Step("e-2", LifecycleEventType.QUEUED, 1_000, "c-2"),
                        new GroundTruth.Step("e-3", LifecycleEventType.RUNNING, 7_201_000, "c-3"),
                        new GroundTruth.Step("e-4", LifecycleEventType.COMPLETED, 7_321_000, "c-4")), 0));
        PublishedInputs in = PublishedInputs.groundTruthOnly(truth);
        String id = id("STUCK_QUEUED|job-1|1000");
        Map<String, Object> row = alertRow(id, "STUCK_QUEUED", "job-1", "RESOLVED", 3_601_000L, 7_201_000L);

        Finding right = tableFinding(MetricsChecks.jobAlerts(in, table(OutputSnapshot.ALERTS, row), AlertRules.defaults()));
        row.put("resolved_at", 7_321_000L);
        Finding wrong = tableFinding(MetricsChecks.jobAlerts(in, table(OutputSnapshot.ALERTS, row), AlertRules.defaults()));

        assertTrue(right.passed(), right::toString);
        assertEquals(List.of(id + ".resolved_at: expected 7201000 but was 7321000"), wrong.differences());
    }

    // ------------------------------------------------------------------------------------------ fixtures

    private static Finding tableFinding(List<Finding> findings) {
        return findings.stream().filter(f -> f.check().equals(MetricsChecks.JOB_ALERTS_TABLE)).findFirst().orElseThrow();
    }

    /** The alert id the README promises: a name-based UUID of "type|subject|episode start". */
    private static String id(String name) {
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static Map<String, Object> alertRow(String id, String type, String subject, String state, Long openedAt,
            Long resolvedAt) {
        Map<String, Object> r = new HashMap<>();
        r.put("alert_id", id);
        r.put("alert_type", type);
        r.put("subject", subject);
        r.put("state", state);
        r.put("opened_at", openedAt);
        r.put("resolved_at", resolvedAt);
        return r;
    }

    private static JobMetricsEvent sample(String id, long at, double cpu, long rss, long read, long write) {
        return JobMetricsEvent.newBuilder().setEventId(id).setJobId("job-1").setSampledAt(Instant.ofEpochMilli(at))
                .setCpuPercent(cpu).setMemoryRssBytes(rss).setIoReadBytes(read).setIoWriteBytes(write)
                .setExecutionTimeMs(at - MINUTE_2).setGpuUtilizationPercent(null).build();
    }

    private static OutputSnapshot aggregates(MetricsAggregate... records) {
        return new OutputSnapshot(Map.of(), List.of(), List.of(), List.of(records), List.of(), List.of());
    }

    private static OutputSnapshot table(String name, Map<String, Object> row) {
        return table(name, List.of(row));
    }

    private static OutputSnapshot table(String name, List<Map<String, Object>> rows) {
        return new OutputSnapshot(Map.of(name, rows), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    private static GroundTruth truth(GroundTruth.Job job) {
        GroundTruth.Run run = new GroundTruth.Run(1, 0, 60_000, 1, 1, WireFormat.AVRO, TopicNames.defaults(), 60,
                new GeneratorConfig.OutcomeMix(1, 0, 0), 0, 0, 0, 0);
        return new GroundTruth(run, List.of(), List.of(job), List.of(),
                new GroundTruth.Totals(4, Map.of(), Map.of(), Map.of(), 0, job.endedAt()));
    }
}
