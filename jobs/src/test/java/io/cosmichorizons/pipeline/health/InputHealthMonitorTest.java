package io.cosmichorizons.pipeline.health;

import static io.cosmichorizons.pipeline.metrics.JobEvents.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.internal.InputTally;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InputHealthMonitorTest {
    private static final Duration CHECK = Duration.ofSeconds(30);
    private static final Duration LAG = Duration.ofHours(1);

    private KeyedOneInputStreamOperatorTestHarness<String, InputTally, Alert> harness;

    @BeforeEach
    void setUp() throws Exception {
        InputHealthMonitor fn = new InputHealthMonitor(new InputHealthMonitor.Settings(new RateRule(0.05, 0.02, 100),
                Duration.ofMinutes(5), CHECK, LAG, LAG));
        harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn), InputTally::getTopic, Types.STRING);
        harness.open();
        harness.setProcessingTime(at(0));
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void theDeadLetterRateAlertOpensAndResolvesWithHysteresis() throws Exception {
        records(0, 100, 10);  // 10 %: open
        records(1, 200, 0);   // 10 of 300: 3.3 %, between the thresholds: stays open
        records(2, 200, 0);   // 10 of 500: 2 %, not below 2 %: stays open
        records(3, 200, 0);   // 10 of 700: 1.4 %: resolves
        harness.processWatermark(new Watermark(at(4 * 60) - 1));
        List<Alert> rate = alerts(AlertType.DEAD_LETTER_RATE);
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED), rate.stream().map(Alert::getState).toList());
        assertEquals("job-lifecycle", rate.get(0).getSubject());
        assertEquals(at(60), rate.get(0).getOpenedAt().toEpochMilli());
        assertEquals(0.1, rate.get(0).getValue(), 1e-9);
        assertEquals(at(240), rate.get(1).getResolvedAt().toEpochMilli());
    }

    @Test
    void fewRecordsRaiseNothing() throws Exception {
        records(0, 50, 25);
        harness.processWatermark(new Watermark(at(600)));
        assertTrue(alerts(AlertType.DEAD_LETTER_RATE).isEmpty());
    }

    @Test
    void lagAlertsOpenWhileOldRecordsFlowAndResolveWhenTheInputIsDrained() throws Exception {
        harness.setProcessingTime(at(0) + Duration.ofHours(2).toMillis());
        records(0, 10, 0);
        harness.processWatermark(new Watermark(at(30)));
        harness.setProcessingTime(at(0) + Duration.ofHours(2).toMillis() + CHECK.toMillis());
        Alert eventLag = alerts(AlertType.EVENT_TIME_LAG).get(0);
        assertEquals(AlertState.OPEN, eventLag.getState());
        assertTrue(eventLag.getValue() > LAG.toMillis());
        assertEquals(AlertState.OPEN, alerts(AlertType.WATERMARK_LAG).get(0).getState());

        harness.setProcessingTime(at(0) + Duration.ofHours(2).toMillis() + 2 * CHECK.toMillis());
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED),
                alerts(AlertType.EVENT_TIME_LAG).stream().map(Alert::getState).toList());
        assertEquals(List.of(AlertState.OPEN, AlertState.RESOLVED),
                alerts(AlertType.WATERMARK_LAG).stream().map(Alert::getState).toList());
        assertEquals(0, harness.numProcessingTimeTimers(), "no lag checks while the input is idle");

        harness.processWatermark(new Watermark(at(3_600)));
        assertEquals(0, harness.numKeyedStateEntries(), "no state left once the minutes are evaluated");
        assertEquals(0, harness.numEventTimeTimers());
    }

    private void records(int minute, int records, int rejected) throws Exception {
        long t = at(minute * 60L + 10);
        for (int i = 0; i < records; i++) {
            harness.processElement(new StreamRecord<>(new InputTally("job-lifecycle", 1, i < rejected ? 1 : 0), t));
        }
    }

    private List<Alert> alerts(AlertType type) {
        return harness.extractOutputValues().stream().filter(a -> a.getAlertType() == type).toList();
    }
}
