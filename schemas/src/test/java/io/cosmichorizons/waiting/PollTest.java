package io.cosmichorizons.waiting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PollTest {

    private static final Duration SHORT = Duration.ofMillis(50);
    private static final Duration FINE = Duration.ofMillis(5);
    /** An interval no test could wait out: a test that finishes did not sleep it. */
    private static final Duration HOUR = Duration.ofHours(1);
    /** Long enough that a wait which ignored the interrupt would fail the test, short enough not to hang it. */
    private static final Duration LONG = Duration.ofSeconds(10);

    private final AtomicInteger evaluations = new AtomicInteger();

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void aConditionThatHoldsAtOnceReturnsWithoutSleeping() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertTrue(Poll.until(HOUR, HOUR, () -> evaluations.incrementAndGet() > 0));
            Duration took = Poll.await("at once", HOUR, HOUR, () -> evaluations.incrementAndGet() > 0);
            assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, took.toString());
        });
        assertEquals(2, evaluations.get());
    }

    @Test
    void pollsUntilTheConditionHolds() {
        assertTrue(Poll.until(Duration.ofSeconds(10), Duration.ofMillis(1), () -> evaluations.incrementAndGet() >= 4));
        assertEquals(4, evaluations.get());

        evaluations.set(0);
        Duration took = Poll.await("the fourth evaluation", Duration.ofSeconds(10), Duration.ofMillis(1),
                () -> evaluations.incrementAndGet() >= 4);
        assertEquals(4, evaluations.get());
        assertFalse(took.isNegative());
    }

    @Test
    void aConditionThatNeverHoldsTimesOut() {
        assertFalse(Poll.until(SHORT, FINE, () -> evaluations.incrementAndGet() < 0));
        assertTrue(evaluations.get() >= 2, "evaluated again after sleeping: " + evaluations.get());
        assertFalse(Thread.currentThread().isInterrupted());

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Poll.await("nothing", SHORT, FINE, () -> false));
        assertEquals("Timed out after PT0.05S waiting for nothing", e.getMessage());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void aNegativeTimeoutEvaluatesOnce() {
        assertFalse(Poll.until(Duration.ofSeconds(-1), LONG, () -> evaluations.incrementAndGet() < 0));
        assertEquals(1, evaluations.get());
    }

    @Test
    void anInterruptEndsTheWaitAndStaysSet() {
        Thread.currentThread().interrupt();
        assertFalse(Poll.until(LONG, LONG, () -> evaluations.incrementAndGet() < 0));
        assertTrue(Thread.currentThread().isInterrupted());
        assertEquals(1, evaluations.get());

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Poll.await("nothing", LONG, LONG, () -> false));
        assertEquals("Interrupted while waiting for nothing", e.getMessage());
        assertTrue(Thread.currentThread().isInterrupted());
    }

    @Test
    void anInterruptedThreadStillSeesAConditionThatHolds() {
        Thread.currentThread().interrupt();
        assertTrue(Poll.until(LONG, LONG, () -> true));
        assertTrue(Thread.currentThread().isInterrupted());
    }
}
