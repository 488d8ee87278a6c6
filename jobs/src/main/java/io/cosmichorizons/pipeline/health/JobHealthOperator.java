package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.internal.InputEnvelope;
import java.util.stream.Stream;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;

/**
 * Runs {@link JobHealthMonitor} and times its input stalls once per subtask.
 *
 * <p>The operator sees every watermark, so it knows when the watermark last moved; a per-job timer could only guess
 * that from the job's own records, and had to look again every idle timeout while the stream was alive, a state round
 * trip per live job and minute. Here a single processing-time check per subtask waits for the watermark to stand still
 * for {@code idle-timeout}; only then does every job with state get a timer to look at its deadlines, and each sets
 * its own fallback timer for as long as the stall lasts. (Those timers fire together, once per stall: with many jobs
 * the subtask is busy with them for a while, which a stalled input can afford.)
 */
public final class JobHealthOperator extends KeyedCoProcessOperator<String, JobStatus, InputEnvelope, Alert> {
    private static final long serialVersionUID = 1L;
    /** The timer service of {@link KeyedCoProcessOperator}; the same name returns the same service. */
    private static final String USER_TIMERS = "user-timers";

    /** The user function, typed. */
    private final JobHealthMonitor monitor;
    private transient InternalTimerService<VoidNamespace> timers;

    public JobHealthOperator(JobHealthMonitor.Settings settings) {
        this(new JobHealthMonitor(settings));
    }

    private JobHealthOperator(JobHealthMonitor monitor) {
        super(monitor);
        this.monitor = monitor;
    }

    @Override
    public void open() throws Exception {
        super.open();
        timers = getInternalTimerService(USER_TIMERS, VoidNamespaceSerializer.INSTANCE, this);
        StallClock clock = new StallClock(monitor.idleTimeoutMillis(), now());
        monitor.useStallClock(clock);
        scheduleStallCheck(clock);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        monitor.stallClock().watermarkArrived(mark.getTimestamp(), now());
        super.processWatermark(mark);
    }

    private void checkForStall(long time) throws Exception {
        StallClock clock = monitor.stallClock();
        long now = now();
        if (clock.isStalled(now) && clock.arm()) {
            // Every job looks at its deadlines once, in its own timer callback, and sets its fallback from there.
            try (Stream<String> jobs = this.<String>getKeyedStateBackend().getKeys(JobHealthMonitor.STATE_NAME, VoidNamespace.INSTANCE)) {
                jobs.forEach(job -> {
                    setCurrentKey(job);
                    timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, now);
                });
            }
        }
        scheduleStallCheck(clock);
    }

    /** Next look: when the watermark would count as stalled if it stopped now, or one timeout on while stalled. */
    private void scheduleStallCheck(StallClock clock) {
        long now = now();
        long next = clock.isStalled(now) ? now + monitor.idleTimeoutMillis() : clock.stalledAt();
        getProcessingTimeService().registerTimer(next, this::checkForStall);
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }
}
