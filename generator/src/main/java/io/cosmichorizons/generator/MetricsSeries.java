package io.cosmichorizons.generator;

import io.cosmichorizons.events.JobMetricsEvent;
import java.time.Instant;
import java.util.Random;

/**
 * The metrics samples of one running job, produced lazily so that long jobs cost no memory until their samples are
 * due. Sample k (from 1) is taken k intervals after the job started, while it is still running.
 */
final class MetricsSeries {
    /** Share of jobs whose process restarts once, resetting the cumulative I/O counters. */
    private static final double COUNTER_RESET_SHARE = 0.02;
    private static final double BYTES_PER_MB = 1024.0 * 1024.0;

    private final Random rnd;
    private final String topic;
    private final String jobId;
    private final String correlationId;
    private final long startedAt;
    private final long intervalMs;
    private final int count;
    private final int cores;
    private final long memoryBytes;
    private final boolean runsOutOfMemory;
    private final double efficiency;
    private final double rssShare;
    private final double readBytesPerSecond;
    private final double writeBytesPerSecond;
    private final Double gpuBase;
    private final int resetAtSample;

    private int next = 1;
    private long ioRead;
    private long ioWrite;

    /**
     * @param correlationId the correlation_id header of the samples: the job's submission
     * @param runsOutOfMemory whether the job ends with OUT_OF_MEMORY, so its last sample is near the limit
     */
    MetricsSeries(Random rnd, String topic, String jobId, String correlationId, long startedAt, long endedAt,
            long intervalMs, int cores, long memoryBytes, boolean gpu, boolean runsOutOfMemory) {
        this.rnd = rnd;
        this.topic = topic;
        this.jobId = jobId;
        this.correlationId = correlationId;
        this.startedAt = startedAt;
        this.intervalMs = intervalMs;
        this.count = (int) ((endedAt - startedAt - 1) / intervalMs);
        this.cores = cores;
        this.memoryBytes = memoryBytes;
        this.runsOutOfMemory = runsOutOfMemory;
        this.efficiency = Randoms.uniform(rnd, 0.55, 0.98);
        this.rssShare = Randoms.uniform(rnd, 0.2, 0.8);
        this.readBytesPerSecond = Randoms.lognormal(rnd, 50 * BYTES_PER_MB, 0.8);
        this.writeBytesPerSecond = Randoms.lognormal(rnd, 10 * BYTES_PER_MB, 0.8);
        this.gpuBase = gpu ? Randoms.uniform(rnd, 40, 95) : null;
        this.resetAtSample = count >= 3 && rnd.nextDouble() < COUNTER_RESET_SHARE ? 2 + rnd.nextInt(count - 1) : -1;
    }

    int count() {
        return count;
    }

    boolean hasNext() {
        return next <= count;
    }

    long nextTime() {
        return startedAt + next * intervalMs;
    }

    TimelineEvent next() {
        int k = next++;
        long sampledAt = startedAt + k * intervalMs;
        double intervalSeconds = intervalMs / 1000.0;
        double cpu = cores * 100.0 * Randoms.clamp(efficiency + 0.05 * rnd.nextGaussian(), 0.01, 1.0);
        double rssFraction = runsOutOfMemory && k == count
                ? Randoms.uniform(rnd, 0.97, 1.0)
                : Randoms.clamp(rssShare * Math.min(1.0, k / 3.0) + 0.02 * rnd.nextGaussian(), 0.01, 0.95);
        if (k == resetAtSample) {
            // The process restarted: counters begin again from what the new process did in this interval.
            ioRead = 0;
            ioWrite = 0;
        }
        ioRead += (long) (readBytesPerSecond * intervalSeconds * Randoms.uniform(rnd, 0.5, 1.5));
        ioWrite += (long) (writeBytesPerSecond * intervalSeconds * Randoms.uniform(rnd, 0.5, 1.5));
        Double gpu = gpuBase == null ? null : Randoms.clamp(gpuBase + 5 * rnd.nextGaussian(), 0, 100);
        JobMetricsEvent sample = new JobMetricsEvent(Randoms.uuid(rnd), jobId, Instant.ofEpochMilli(sampledAt), cpu,
                (long) (memoryBytes * rssFraction), ioRead, ioWrite, k * intervalMs, gpu);
        return new TimelineEvent(sampledAt, new PlannedRecord.ValidEvent(topic, sample, correlationId), jobId, false, -1);
    }
}
