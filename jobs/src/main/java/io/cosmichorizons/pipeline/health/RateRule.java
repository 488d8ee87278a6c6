package io.cosmichorizons.pipeline.health;

import java.io.Serializable;

/**
 * A rate alarm with hysteresis: it opens when {@code numerator / denominator} reaches {@code openAt} over at least
 * {@code minVolume} events, and resolves only once the rate falls below {@code resolveBelow} (or nothing happened in
 * the window at all). Between the two thresholds an open alarm stays open and a closed one stays closed, so a rate
 * hovering around one threshold does not flap.
 */
public record RateRule(double openAt, double resolveBelow, long minVolume) implements Serializable {

    public RateRule {
        if (!(resolveBelow <= openAt)) {
            throw new IllegalArgumentException("The resolve threshold (" + resolveBelow
                    + ") must not be above the open threshold (" + openAt + ")");
        }
    }

    /** What to do with the alarm. */
    public enum Decision { OPEN, RESOLVE, KEEP }

    public Decision decide(boolean open, long numerator, long denominator) {
        double rate = denominator == 0 ? 0 : (double) numerator / denominator;
        if (!open) {
            return denominator >= minVolume && denominator > 0 && rate >= openAt ? Decision.OPEN : Decision.KEEP;
        }
        return denominator == 0 || rate < resolveBelow ? Decision.RESOLVE : Decision.KEEP;
    }

    public static double rate(long numerator, long denominator) {
        return denominator == 0 ? 0 : (double) numerator / denominator;
    }
}
