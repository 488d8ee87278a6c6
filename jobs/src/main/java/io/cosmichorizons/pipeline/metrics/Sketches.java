package io.cosmichorizons.pipeline.metrics;

import java.nio.ByteBuffer;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.kll.KllSketch;
import org.apache.datasketches.memory.Memory;

/**
 * KLL quantile sketches (Apache DataSketches), kept in Flink state and in fleet_stats_1m as their serialized bytes,
 * so that minutes can be merged into hours or days later without the raw values.
 *
 * <p>Error bound: for a sketch of parameter k, a quantile query returns a value whose true rank is within
 * {@link #rankError(int)} of the requested rank with 99 % confidence (about 1.33 % for the default k = 200); PMF/CDF
 * queries are within about 1.65 %. Sketches of up to a few hundred values hold them exactly.
 */
public final class Sketches {
    public static final int DEFAULT_K = 200;

    private Sketches() {}

    /** The normalized rank error of a single quantile query, from the library (99 % confidence). */
    public static double rankError(int k) {
        return KllSketch.getNormalizedRankError(k, false);
    }

    public static byte[] add(ByteBuffer sketch, double value, int k) {
        KllDoublesSketch s = sketch == null ? KllDoublesSketch.newHeapInstance(k) : read(sketch);
        s.update(value);
        return s.toByteArray();
    }

    public static KllDoublesSketch read(ByteBuffer bytes) {
        ByteBuffer b = bytes.duplicate();
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        return KllDoublesSketch.heapify(Memory.wrap(copy));
    }

    /** The quantiles at {@code ranks}, or nulls for an empty or missing sketch. */
    public static Double[] quantiles(ByteBuffer sketch, double... ranks) {
        Double[] out = new Double[ranks.length];
        if (sketch == null) {
            return out;
        }
        KllDoublesSketch s = read(sketch);
        if (s.isEmpty()) {
            return out;
        }
        for (int i = 0; i < ranks.length; i++) {
            out[i] = s.getQuantile(ranks[i]);
        }
        return out;
    }

    public static long count(ByteBuffer sketch) {
        return sketch == null ? 0 : read(sketch).getN();
    }
}
