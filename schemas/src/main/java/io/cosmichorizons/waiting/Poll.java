package io.cosmichorizons.waiting;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Deadline-bounded polling: evaluates a condition, sleeps an interval, and evaluates it again until it holds or the
 * deadline has passed. This is the one place where such waits sleep. It lives in {@code schemas} because that is the
 * one module every other module depends on.
 *
 * <p>Conditions are plain {@link BooleanSupplier}s: a condition that calls something throwing checked exceptions wraps
 * them into unchecked ones, which leave the wait as they are. The deadline is measured with {@link System#nanoTime()}.
 */
public final class Poll {

    private Poll() {}

    /**
     * Evaluates {@code condition} at once and then every {@code interval} until it holds.
     *
     * @return true as soon as the condition holds; false once {@code timeout} has passed without it holding, or when the
     *     thread is interrupted while sleeping (the interrupt flag is then set again)
     */
    public static boolean until(Duration timeout, Duration interval, BooleanSupplier condition) {
        long start = System.nanoTime();
        long timeoutNanos = saturatedNanos(timeout);
        long intervalNanos = saturatedNanos(interval);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start >= timeoutNanos) {
                return false;
            }
            try {
                TimeUnit.NANOSECONDS.sleep(intervalNanos); // the polling interval of a deadline-bounded wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Like {@link #until}, but a wait that does not succeed is an error.
     *
     * @return how long it took until the condition held
     * @throws IllegalStateException "Timed out after {@code timeout} waiting for {@code what}" once the deadline has
     *     passed, or "Interrupted while waiting for {@code what}" when the thread was interrupted (the interrupt flag is
     *     then set again)
     */
    public static Duration await(String what, Duration timeout, Duration interval, BooleanSupplier condition) {
        long start = System.nanoTime();
        if (until(timeout, interval, condition)) {
            return Duration.ofNanos(System.nanoTime() - start);
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException("Interrupted while waiting for " + what);
        }
        throw new IllegalStateException("Timed out after " + timeout + " waiting for " + what);
    }

    /** {@code d} in nanoseconds; beyond what a long holds (about 292 years), the largest long. */
    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
