package io.cosmichorizons.publisher;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts outcomes and records latencies. Acknowledgements arrive on the producer's I/O thread while callers read
 * snapshots on theirs; HdrHistogram's {@link Recorder} lets both proceed without a lock on the recording side.
 */
final class SendStatistics {
    private static final int SIGNIFICANT_DIGITS = 3;
    private static final double MICROS_PER_MILLI = 1000.0;

    private final LongAdder sent = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final Recorder recorder = new Recorder(SIGNIFICANT_DIGITS);
    /** Everything recorded so far; guarded by this. */
    private final Histogram total = new Histogram(SIGNIFICANT_DIGITS);

    void recordSent(long latencyNanos) {
        recorder.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(latencyNanos)));
        sent.increment();
    }

    void recordFailed() {
        failed.increment();
    }

    synchronized PublisherMetrics snapshot() {
        total.add(recorder.getIntervalHistogram());
        PublisherMetrics.Latency latency = new PublisherMetrics.Latency(
                total.getTotalCount(),
                total.getTotalCount() == 0 ? 0 : total.getMean() / MICROS_PER_MILLI,
                total.getValueAtPercentile(50) / MICROS_PER_MILLI,
                total.getValueAtPercentile(99) / MICROS_PER_MILLI,
                total.getMaxValue() / MICROS_PER_MILLI);
        return new PublisherMetrics(sent.sum(), failed.sum(), latency);
    }
}
