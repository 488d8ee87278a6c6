package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.internal.InputTally;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Sums {@link InputTally}s per topic and minute before they are keyed by topic. With one key per input topic, every
 * tally lands on one subtask of the {@link InputHealthMonitor}, which reads and writes its state per tally: a quarter
 * of the metrics job's CPU in the benchmark's profile when every input record was a tally of its own.
 *
 * <p>The sums change nothing the monitor sees but the number of records: a sum carries the largest timestamp of its
 * minute's tallies, and it leaves before every watermark (no tally gets later than it was), before every checkpoint
 * barrier (so the operator holds no state), when the input goes idle, at the end of the input, and at least every
 * {@code flushIntervalMillis} of processing time (so the lag monitor keeps seeing input while the watermark stalls).
 */
public final class InputTallyCombiner extends AbstractStreamOperator<InputTally>
        implements OneInputStreamOperator<InputTally, InputTally>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final long MINUTE = 60_000;

    private final long flushIntervalMillis;
    /** topic, minute (null: no timestamp) → records, rejected, largest timestamp. */
    private transient Map<Group, long[]> sums;

    private record Group(String topic, Long minute) {}

    public InputTallyCombiner(long flushIntervalMillis) {
        if (flushIntervalMillis <= 0) {
            throw new IllegalArgumentException("flushIntervalMillis must be positive: " + flushIntervalMillis);
        }
        this.flushIntervalMillis = flushIntervalMillis;
    }

    @Override
    public void open() throws Exception {
        super.open();
        sums = new LinkedHashMap<>();
        getProcessingTimeService().scheduleWithFixedDelay(time -> flush(), flushIntervalMillis, flushIntervalMillis);
    }

    @Override
    public void processElement(StreamRecord<InputTally> element) {
        InputTally tally = element.getValue();
        Long minute = element.hasTimestamp() ? Math.floorDiv(element.getTimestamp(), MINUTE) : null;
        long[] sum = sums.computeIfAbsent(new Group(tally.getTopic(), minute), g -> new long[] {0, 0, Long.MIN_VALUE});
        sum[0] += tally.getRecords();
        sum[1] += tally.getRejected();
        if (element.hasTimestamp()) {
            sum[2] = Math.max(sum[2], element.getTimestamp());
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flush();
        super.processWatermark(mark);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        if (status.isIdle()) {
            flush();
        }
        super.processWatermarkStatus(status);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void endInput() {
        flush();
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    private void flush() {
        for (Map.Entry<Group, long[]> e : sums.entrySet()) {
            long[] sum = e.getValue();
            InputTally combined = new InputTally(e.getKey().topic(), Math.toIntExact(sum[0]), Math.toIntExact(sum[1]));
            output.collect(e.getKey().minute() == null ? new StreamRecord<>(combined) : new StreamRecord<>(combined, sum[2]));
        }
        sums.clear();
    }
}
