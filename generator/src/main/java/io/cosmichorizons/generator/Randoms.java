package io.cosmichorizons.generator;

import java.util.Random;
import java.util.UUID;

/**
 * Seeded randomness. Each concern (arrivals, each job, each job's metrics, injections) draws from its own stream
 * derived from the seed, so that one option changing (say, the injection rates) leaves the rest of the workload
 * unchanged. {@link Random} is used because its algorithms, nextGaussian included, are specified and therefore stable
 * across JDKs.
 */
final class Randoms {
    static final long ARRIVALS = 1;
    static final long PREFERENCES = 2;
    static final long INJECTIONS = 3;
    static final long JOB = 4;
    static final long METRICS = 5;

    private Randoms() {}

    static Random stream(long seed, long stream, long index) {
        return new Random(mix64(mix64(seed ^ (stream * 0x9E3779B97F4A7C15L)) + index));
    }

    /** SplitMix64's finaliser: nearby inputs give unrelated outputs. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A version-4 (random) UUID drawn from {@code rnd}, in canonical text form. */
    static String uuid(Random rnd) {
        long msb = (rnd.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (rnd.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    /** A lognormal draw with the given median and shape (sigma of the underlying normal). */
    static double lognormal(Random rnd, double median, double sigma) {
        return median * Math.exp(sigma * rnd.nextGaussian());
    }

    static double uniform(Random rnd, double from, double to) {
        return from + (to - from) * rnd.nextDouble();
    }

    static double clamp(double value, double min, double max) {
        return Math.max(min, Math.min(max, value));
    }

    /** An index chosen with probability proportional to its weight. */
    static int weighted(Random rnd, double... weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double x = rnd.nextDouble() * total;
        for (int i = 0; i < weights.length - 1; i++) {
            x -= weights[i];
            if (x < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }
}
