package io.cosmichorizons.pipeline.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.internal.InputTally;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InputTallyCombinerTest {
    private static final long MINUTE = 60_000;
    private static final long T0 = 1_795_000_000_000L - 1_795_000_000_000L % MINUTE;

    private OneInputStreamOperatorTestHarness<InputTally, InputTally> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new OneInputStreamOperatorTestHarness<>(new InputTallyCombiner(200));
        harness.setProcessingTime(0);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    @Test
    void sumsPerTopicAndMinuteLeaveBeforeTheWatermarkWithTheirLatestTimestamp() throws Exception {
        harness.processElement(new InputTally("job-lifecycle", 1, 0), T0 + 5);
        harness.processElement(new InputTally("job-lifecycle", 1, 1), T0 + 9);
        harness.processElement(new InputTally("job-lifecycle", 1, 0), T0 + MINUTE + 1);
        harness.processElement(new InputTally("job-metrics", 1, 0), T0 + 7);
        harness.processElement(new InputTally("job-lifecycle", 0, 1), T0 + 8);
        assertTrue(harness.getOutput().isEmpty(), "nothing before a watermark, barrier or flush interval");

        harness.processWatermark(new Watermark(T0 + 10));
        List<Object> out = new ArrayList<>(harness.getOutput());
        assertEquals(List.of(
                new StreamRecord<>(new InputTally("job-lifecycle", 2, 2), T0 + 9),
                new StreamRecord<>(new InputTally("job-lifecycle", 1, 0), T0 + MINUTE + 1),
                new StreamRecord<>(new InputTally("job-metrics", 1, 0), T0 + 7)), out.subList(0, 3));
        assertEquals(new Watermark(T0 + 10), out.get(3), "the sums precede the watermark");
        assertEquals(4, out.size());
    }

    @Test
    void aCheckpointBarrierFlushesSoNothingNeedsState() throws Exception {
        harness.processElement(new InputTally("job-metrics", 1, 0), T0);
        harness.prepareSnapshotPreBarrier(1);
        assertEquals(List.of(new InputTally("job-metrics", 1, 0)), harness.extractOutputValues());
        harness.prepareSnapshotPreBarrier(2);
        assertEquals(1, harness.extractOutputValues().size(), "emitted once");
    }

    @Test
    void theFlushIntervalKeepsTalliesFlowingWhileTheWatermarkStalls() throws Exception {
        harness.processElement(new InputTally("job-lifecycle", 1, 0), T0);
        harness.processElement(new InputTally("job-lifecycle", 1, 0), T0 + 1);
        harness.setProcessingTime(199);
        assertTrue(harness.getOutput().isEmpty());
        harness.setProcessingTime(200);
        assertEquals(List.of(new InputTally("job-lifecycle", 2, 0)), harness.extractOutputValues());
    }

    @Test
    void talliesWithoutATimestampStayWithoutOne() throws Exception {
        harness.processElement(new StreamRecord<>(new InputTally("job-lifecycle", 1, 0)));
        harness.processElement(new StreamRecord<>(new InputTally("job-lifecycle", 1, 0)));
        harness.prepareSnapshotPreBarrier(1);
        Object only = harness.getOutput().poll();
        StreamRecord<?> record = assertInstanceOf(StreamRecord.class, only);
        assertFalse(record.hasTimestamp());
        assertEquals(new InputTally("job-lifecycle", 2, 0), record.getValue());
    }

    @Test
    void theEndOfInputFlushes() throws Exception {
        harness.processElement(new InputTally("job-metrics", 3, 1), T0);
        harness.endInput();
        assertEquals(List.of(new InputTally("job-metrics", 3, 1)), harness.extractOutputValues());
    }
}
