package io.cosmichorizons.generator;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Paces publishing at a steady rate. Tokens accrue continuously up to a burst of 100 ms worth; when the bucket is
 * empty the caller parks until 10 ms worth have accrued, so a fast rate costs a few parks per second rather than one
 * per record, and the long-run rate is exact whatever the park granularity.
 */
final class TokenBucket {
    private final double tokensPerNano;
    private final double capacity;
    private final double refillChunk;
    private final LongSupplier nanoClock;
    private final LongConsumer parkNanos;
    private double tokens = 1;
    private long lastRefill;

    TokenBucket(double ratePerSecond) {
        this(ratePerSecond, System::nanoTime, LockSupport::parkNanos);
    }

    /** With an injectable clock and parking, for tests. */
    TokenBucket(double ratePerSecond, LongSupplier nanoClock, LongConsumer parkNanos) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("rate must be > 0, is " + ratePerSecond);
        }
        this.tokensPerNano = ratePerSecond / 1e9;
        this.capacity = Math.max(1, ratePerSecond * 0.1);
        this.refillChunk = Math.max(1, ratePerSecond * 0.01);
        this.nanoClock = nanoClock;
        this.parkNanos = parkNanos;
        this.lastRefill = nanoClock.getAsLong();
    }

    /** Takes one token, waiting for it if needed. */
    void acquire() {
        while (true) {
            long now = nanoClock.getAsLong();
            tokens = Math.min(capacity, tokens + (now - lastRefill) * tokensPerNano);
            lastRefill = now;
            if (tokens >= 1) {
                tokens -= 1;
                return;
            }
            parkNanos.accept((long) Math.ceil((refillChunk - tokens) / tokensPerNano));
        }
    }
}
