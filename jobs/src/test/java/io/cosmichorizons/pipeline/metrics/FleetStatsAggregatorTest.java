package io.cosmichorizons.pipeline.metrics;

import static io.cosmichorizons.events.LifecycleEventType.COMPLETED;
import static io.cosmichorizons.events.LifecycleEventType.FAILED;
import static io.cosmichorizons.events.LifecycleEventType.QUEUED;
import static io.cosmichorizons.events.LifecycleEventType.RUNNING;
import static io.cosmichorizons.pipeline.metrics.JobEvents.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.internal.FleetBucket;
import io.cosmichorizons.events.internal.FleetEvent;
import io.cosmichorizons.events.internal.FleetState;
import io.cosmichorizons.events.internal.FleetStats;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.health.Alerts;
import io.cosmichorizons.pipeline.health.Thresholds;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FleetStatsAggregatorTest {
    private static final long MINUTE = 60_000;

    private KeyedOneInputStreamOperatorTestHarness<String, FleetEvent, FleetStats> harness;

    @BeforeEach
    void setUp() throws Exception {
        Thresholds thresholds = Thresholds.from(Settings.of(Map.of()), Map.of(
                FleetStatsAggregator.ERROR_RATE_WINDOW, "5m", FleetStatsAggregator.ERROR_RATE_OPEN, "0.25",
                FleetStatsAggregator.ERROR_RATE_RESOLVE, "0.15", FleetStatsAggregator.ERROR_RATE_MIN_JOBS, "20"));
        FleetStatsAggregator fn = new FleetStatsAggregator(new FleetStatsAggregator.Settings(Sketches.DEFAULT_K, thresholds));
        harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn), FleetFacts::key, Types.STRING);
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void countsDepthAndPercentilesPerMinute() throws Exception {
        JobEvents.Job j1 = new JobEvents.Job("j1", "setonix", "work", 4, 3_600_000L);
        JobEvents.Job j2 = new JobEvents.Job("j2", "setonix", "work", 4, 3_600_000L);
        JobStatus a = j1.submitted(0);
        JobStatus b = j2.submitted(5);
        feed(FleetFacts.diff(null, a), FleetFacts.diff(null, b));
        JobStatus a2 = j1.step(QUEUED, 10);
        JobStatus b2 = j2.step(QUEUED, 20);
        feed(FleetFacts.diff(a, a2), FleetFacts.diff(b, b2));
        JobStatus a3 = j1.step(RUNNING, 70);
        feed(FleetFacts.diff(a2, a3), FleetFacts.duration(a3, at(70), 60_000L, null));
        JobStatus b3 = j2.step(FAILED, 80);
        feed(FleetFacts.diff(b2, b3), FleetFacts.duration(b3, at(80), 60_000L, null));
        JobStatus a4 = j1.step(COMPLETED, 200);
        feed(FleetFacts.diff(a3, a4), FleetFacts.duration(a4, at(200), null, 130_000L));
        harness.processWatermark(new Watermark(at(240) - 1));

        List<FleetStats> system = rows("system", "setonix");
        assertEquals(List.of(at(0), at(60), at(120), at(180)), system.stream().map(FleetStats::getMinuteStart).toList(),
                "a row for each minute with changes, and for the quiet minute while a job runs");
        FleetStats m0 = system.get(0);
        assertEquals(2, m0.getSubmitted());
        assertEquals(2, m0.getQueued());
        assertEquals(0, m0.getRunning());
        assertNull(m0.getFailureRate());
        FleetStats m1 = system.get(1);
        assertEquals(1, m1.getStarted());
        assertEquals(1, m1.getFailed());
        assertEquals(1.0, m1.getFailureRate());
        assertEquals(0, m1.getQueued());
        assertEquals(1, m1.getRunning());
        assertEquals(2, m1.getQueueWaitCount());
        assertEquals(60_000.0, m1.getQueueWaitP50Ms());
        assertEquals(60_000.0, m1.getQueueWaitP99Ms());
        FleetStats m2 = system.get(2);
        assertEquals(0, m2.getStarted() + m2.getCompleted() + m2.getSubmitted());
        assertEquals(1, m2.getRunning());
        FleetStats m3 = system.get(3);
        assertEquals(1, m3.getCompleted());
        assertEquals(0, m3.getRunning());
        assertEquals(130_000.0, m3.getRunP95Ms());
        assertEquals(system.size(), rows("user", "user-1").size(), "the user sees the same jobs");

        harness.processWatermark(new Watermark(at(3_600)));
        assertEquals(0, harness.numKeyedStateEntries(), "no state once nothing is queued, running or in the window");
        assertEquals(0, harness.numEventTimeTimers());
    }

    @Test
    void theErrorRateAlertOpensAndResolvesWithHysteresis() throws Exception {
        ends(0, 20, 0);   // window: 20 completed, 0 failed
        ends(1, 0, 10);   // 20 / 10: 33 % >= 25 %: open
        ends(2, 20, 0);   // 40 / 10: 20 %, between the thresholds: stays open
        ends(3, 30, 0);   // 70 / 10: 12.5 % < 15 %: resolves
        harness.processWatermark(new Watermark(at(4 * 60) - 1));
        List<Alert> alerts = alerts();
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED), alerts.stream().map(Alert::getState).toList());
        assertEquals(AlertType.ERROR_RATE, alerts.get(0).getAlertType());
        assertEquals("setonix", alerts.get(0).getSubject());
        assertEquals(at(120), alerts.get(0).getOpenedAt().toEpochMilli(), "at the end of the minute that crossed");
        assertEquals(at(240), alerts.get(1).getResolvedAt().toEpochMilli());
        assertEquals(alerts.get(0).getAlertId(), alerts.get(1).getAlertId());
        assertEquals(Alerts.alertId(AlertType.ERROR_RATE, "setonix", at(120)), alerts.get(0).getAlertId());
    }

    @Test
    void aBurstBelowTheMinimumVolumeRaisesNothing() throws Exception {
        ends(0, 2, 8); // 80 % of only 10 jobs
        harness.processWatermark(new Watermark(at(600)));
        assertTrue(alerts().isEmpty());
    }

    @Test
    void anOpenErrorRateAlertResolvesWhenTheFailuresAgeOutOfTheWindow() throws Exception {
        ends(0, 10, 20);
        harness.processWatermark(new Watermark(at(60) - 1));
        assertEquals(1, alerts().size());
        harness.processWatermark(new Watermark(at(3_600)));
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED), alerts().stream().map(Alert::getState).toList());
        assertEquals(at(6 * 60), alerts().get(1).getResolvedAt().toEpochMilli(), "when the 5-minute window is empty");
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
    }

    @Test
    void aChangeForAWrittenMinuteCountsInTheNextOpenOne() throws Exception {
        ends(0, 1, 0);
        harness.processWatermark(new Watermark(at(60) - 1));
        ends(0, 1, 0); // late
        harness.processWatermark(new Watermark(at(120) - 1));
        List<FleetStats> rows = rows("system", "setonix");
        assertEquals(2, rows.size());
        assertEquals(at(60), rows.get(1).getMinuteStart());
        assertEquals(1, rows.get(1).getCompleted());
    }

    @Test
    void aBacklogOfOpenMinutesClosesInOrderWithTheQuietMinutesBetween() throws Exception {
        JobEvents.Job j1 = new JobEvents.Job("j1", "setonix", "work", 4, 3_600_000L);
        JobStatus submitted = j1.submitted(0);
        JobStatus queued = j1.step(QUEUED, 10);
        JobStatus running = j1.step(RUNNING, 130);
        JobStatus done = j1.step(COMPLETED, 610);
        // The watermark trails the input: minutes 0, 2 and 10 are open at once.
        feed(FleetFacts.diff(null, submitted), FleetFacts.diff(submitted, queued), FleetFacts.diff(queued, running),
                FleetFacts.diff(running, done));
        ends(2, 3, 1);
        harness.processWatermark(new Watermark(at(11 * 60) - 1));

        List<FleetStats> system = rows("system", "setonix");
        assertEquals(11, system.size(), "minutes 0 to 10: three with changes, the quiet ones while the job is live");
        for (int m = 0; m < system.size(); m++) {
            assertEquals(at(m * 60L), system.get(m).getMinuteStart());
        }
        assertEquals(1, system.get(0).getQueued());
        assertEquals(1, system.get(2).getStarted());
        assertEquals(3, system.get(2).getCompleted());
        assertEquals(1, system.get(2).getFailed());
        assertEquals(1, system.get(5).getRunning());
        assertEquals(1, system.get(10).getCompleted());
        assertEquals(0, system.get(10).getRunning());
    }

    @Test
    void openMinutesThatAnEarlierReleaseKeptInTheSubjectStateStillClose() throws Exception {
        ends(0, 1, 0);
        // The layout of releases before the open minutes had a state of their own: the minute inside the value.
        var backend = harness.getOperator().getKeyedStateBackend();
        backend.setCurrentKey("system|setonix");
        ValueState<FleetState> value = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, new ValueStateDescriptor<>("fleet", new AvroTypeInfo<>(FleetState.class)));
        MapState<Long, FleetBucket> minutes = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                new MapStateDescriptor<>("fleet-open-minutes", Types.LONG, new AvroTypeInfo<>(FleetBucket.class)));
        FleetBucket kept = minutes.get(at(0));
        minutes.remove(at(0));
        FleetState earlier = value.value();
        earlier.setBuckets(List.of(kept));
        value.update(earlier);

        ends(0, 2, 1);
        harness.processWatermark(new Watermark(at(60) - 1));

        List<FleetStats> rows = rows("system", "setonix");
        assertEquals(1, rows.size());
        assertEquals(3, rows.get(0).getCompleted(), "with the change kept by the earlier release");
        assertEquals(1, rows.get(0).getFailed());
        harness.processWatermark(new Watermark(at(3_600)));
        assertEquals(0, harness.numKeyedStateEntries());
        assertEquals(0, harness.numEventTimeTimers());
    }

    private void ends(int minute, int completed, int failed) throws Exception {
        long t = at(minute * 60L + 30);
        harness.processElement(new StreamRecord<>(FleetEvent.newBuilder().setScope("system").setSubject("setonix")
                .setAt(t).setCompleted(completed).setFailed(failed).build(), t));
    }

    @SafeVarargs
    private void feed(List<FleetEvent>... batches) throws Exception {
        for (List<FleetEvent> batch : batches) {
            for (FleetEvent e : batch) {
                harness.processElement(new StreamRecord<>(e, e.getAt()));
            }
        }
    }

    private List<FleetStats> rows(String scope, String subject) {
        return harness.extractOutputValues().stream()
                .filter(r -> r.getScope().equals(scope) && r.getSubject().equals(subject)).toList();
    }

    private List<Alert> alerts() {
        var out = harness.getSideOutput(Alerts.ALERTS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }
}
