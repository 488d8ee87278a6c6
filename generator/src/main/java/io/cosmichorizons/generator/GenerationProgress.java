package io.cosmichorizons.generator;

import java.time.Duration;

/**
 * Where a publishing run stands; reported about once a second.
 *
 * @param sent records handed to the producer so far
 * @param total records in the workload
 * @param acknowledged records the broker acknowledged so far
 * @param failed records that failed so far
 * @param ratePerSecond records sent per second since the previous report
 * @param elapsed time since publishing started
 * @param eta estimated time to send the rest at the current rate; null while the rate is zero
 */
public record GenerationProgress(long sent, long total, long acknowledged, long failed, double ratePerSecond,
        Duration elapsed, Duration eta) {}
