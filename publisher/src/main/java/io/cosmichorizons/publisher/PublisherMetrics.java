package io.cosmichorizons.publisher;

/**
 * A snapshot of what a publisher has done since it was built.
 *
 * @param sent records the broker acknowledged
 * @param failed records that ended in a failed future (timeouts, broker refusals, sends on a closed publisher);
 *     events rejected by validation are not counted, since nothing was sent
 * @param latency time from the send call to the acknowledgement, over acknowledged records
 */
public record PublisherMetrics(long sent, long failed, Latency latency) {

    /**
     * Send-latency distribution in milliseconds (microsecond resolution, 3 significant digits).
     *
     * @param count samples recorded
     * @param meanMillis mean latency
     * @param p50Millis median
     * @param p99Millis 99th percentile
     * @param maxMillis largest latency seen
     */
    public record Latency(long count, double meanMillis, double p50Millis, double p99Millis, double maxMillis) {}
}
