package io.cosmichorizons.pipeline.testing;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Passes records through and throws at random points, a fixed number of times per test run. It fails only after a
 * checkpoint has completed since the last (re)start, so every failure forces a real restore from a checkpoint whose
 * outputs were already committed: the case exactly-once has to survive.
 *
 * <p>The failure budget is static because the MiniCluster runs in the test's JVM; reset it per test with
 * {@link #arm(int, long)}.
 */
public class FailingMapper<T> extends RichMapFunction<T, T> implements CheckpointListener {
    private static final long serialVersionUID = 1L;

    private static final AtomicInteger REMAINING = new AtomicInteger();
    private static final AtomicInteger INJECTED = new AtomicInteger();
    private static volatile long seed;

    private transient long seen;
    private transient long failAt;
    private transient volatile boolean checkpointedSinceStart;

    /** Allows {@code failures} failures from now on, at points drawn from {@code seed}. */
    public static void arm(int failures, long seed) {
        REMAINING.set(failures);
        INJECTED.set(0);
        FailingMapper.seed = seed;
    }

    public static int injected() {
        return INJECTED.get();
    }

    @Override
    public void open(OpenContext openContext) {
        seen = 0;
        checkpointedSinceStart = false;
        int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        failAt = new SplittableRandom(seed + 31L * attempt + subtask).nextLong(200, 2_000);
    }

    @Override
    public T map(T value) {
        seen++;
        if (checkpointedSinceStart && seen >= failAt && REMAINING.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            INJECTED.incrementAndGet();
            throw new IllegalStateException("Injected failure after " + seen + " records (test fault injection)");
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpointedSinceStart = true;
    }
}
