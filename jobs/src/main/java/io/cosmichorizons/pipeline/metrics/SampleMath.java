package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.SamplePoint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The arithmetic of metrics samples, as pure functions so that tests can recompute it from the published samples.
 *
 * <p>I/O counters are cumulative since the job started. The bytes done between two consecutive samples (in event
 * time) are the difference of their counters; a counter lower than its predecessor means the job's process restarted
 * and its counter began again, so the new value itself is what was done since the restart. Before the first sample
 * the counters are 0. CPU-seconds between two samples are the later sample's cpu_percent / 100 times the run time
 * between them (execution_time_ms), the first sample's counted from the job's start.
 */
public final class SampleMath {
    private SampleMath() {}

    public static SamplePoint point(JobMetricsEvent e) {
        return SamplePoint.newBuilder()
                .setSampledAt(e.getSampledAt().toEpochMilli())
                .setCpuPercent(e.getCpuPercent())
                .setRssBytes(e.getMemoryRssBytes())
                .setIoReadBytes(e.getIoReadBytes())
                .setIoWriteBytes(e.getIoWriteBytes())
                .setExecutionTimeMs(e.getExecutionTimeMs())
                .build();
    }

    /** Bytes done between two readings of a cumulative counter, with a reset handled. */
    public static long increment(long previous, long current) {
        return current >= previous ? current - previous : current;
    }

    /** CPU-seconds from {@code previous} (null: the job's start) to {@code current}. */
    public static double cpuSeconds(SamplePoint previous, SamplePoint current) {
        long previousRun = previous == null ? 0 : previous.getExecutionTimeMs();
        return current.getCpuPercent() / 100.0 * Math.max(0, current.getExecutionTimeMs() - previousRun) / 1000.0;
    }

    /** Running totals over samples folded in event-time order. */
    public static final class Totals {
        public double cpuSeconds;
        public long ioRead;
        public long ioWrite;
        public SamplePoint last;

        public Totals(double cpuSeconds, long ioRead, long ioWrite, SamplePoint last) {
            this.cpuSeconds = cpuSeconds;
            this.ioRead = ioRead;
            this.ioWrite = ioWrite;
            this.last = last;
        }

        /** Folds one sample that comes after {@link #last} in event time. */
        public void add(SamplePoint p) {
            cpuSeconds += cpuSeconds(last, p);
            ioRead += increment(last == null ? 0 : last.getIoReadBytes(), p.getIoReadBytes());
            ioWrite += increment(last == null ? 0 : last.getIoWriteBytes(), p.getIoWriteBytes());
            last = p;
        }
    }

    public static List<SamplePoint> sorted(List<SamplePoint> points) {
        List<SamplePoint> copy = new ArrayList<>(points);
        copy.sort(Comparator.comparingLong(SamplePoint::getSampledAt));
        return copy;
    }

    /**
     * The aggregate of one window: {@code points} (any order) are its samples, {@code baseline} the job's latest
     * sample before the window (null when there is none).
     */
    public static MetricsAggregate window(String jobId, long windowStart, long windowMillis, SamplePoint baseline,
            List<SamplePoint> points) {
        List<SamplePoint> ordered = sorted(points);
        Totals t = new Totals(0, 0, 0, baseline);
        double cpuSum = 0;
        double cpuMax = 0;
        long rssPeak = 0;
        for (SamplePoint p : ordered) {
            t.add(p);
            cpuSum += p.getCpuPercent();
            cpuMax = Math.max(cpuMax, p.getCpuPercent());
            rssPeak = Math.max(rssPeak, p.getRssBytes());
        }
        double seconds = windowMillis / 1000.0;
        return MetricsAggregate.newBuilder()
                .setJobId(jobId)
                .setWindowStart(Instant.ofEpochMilli(windowStart))
                .setWindowEnd(Instant.ofEpochMilli(windowStart + windowMillis))
                .setSampleCount(ordered.size())
                .setCpuAvg(ordered.isEmpty() ? 0 : cpuSum / ordered.size())
                .setCpuMax(cpuMax)
                .setRssPeakBytes(rssPeak)
                .setIoReadDeltaBytes(t.ioRead)
                .setIoWriteDeltaBytes(t.ioWrite)
                .setIoReadRateBps(t.ioRead / seconds)
                .setIoWriteRateBps(t.ioWrite / seconds)
                .build();
    }

    /** Start of the tumbling window of {@code time}. */
    public static long windowStart(long time, long windowMillis) {
        return Math.floorDiv(time, windowMillis) * windowMillis;
    }
}
