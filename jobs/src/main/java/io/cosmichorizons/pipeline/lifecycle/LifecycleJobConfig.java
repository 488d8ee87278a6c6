package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.topics.Topics;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Everything the lifecycle job can be told, with defaults. Loaded from {@code --config FILE} and {@code --key value}. */
public record LifecycleJobConfig(
        CommonConfig common,
        String lifecycleTopic,
        String notificationsTopic,
        String preferencesTopic,
        String groupId,
        Duration outOfOrderness,
        Duration sourceIdleness,
        LifecycleStateMachine.Settings stateMachine)
        implements Serializable {

    public static final List<Option> OPTIONS;

    static {
        List<Option> options = new ArrayList<>(CommonConfig.OPTIONS);
        options.addAll(List.of(
                new Option("topics.lifecycle", Topics.JOB_LIFECYCLE, "Input topic of job lifecycle events"),
                new Option("topics.notifications", Topics.JOB_NOTIFICATIONS, "Output topic of notifications (exactly-once)"),
                new Option("topics.preferences", Topics.NOTIFICATION_PREFERENCES, "Compacted topic of users' notification channels"),
                new Option("lifecycle.group-id", "horizons-lifecycle", "Kafka consumer group (offsets are committed on checkpoints for lag monitoring)"),
                new Option("lifecycle.out-of-orderness", "30s", "Watermark delay: how far event times may run backwards"),
                new Option("lifecycle.source-idleness", "1m", "A partition with no records for this long stops holding back the watermark"),
                new Option("lifecycle.reorder-timeout", "5m", "Event time an early event waits for its predecessor before it is dead-lettered (OUT_OF_ORDER_TIMEOUT)"),
                new Option("lifecycle.reorder-buffer-max", "16", "Events one job may hold waiting for a predecessor; more are dead-lettered (OUT_OF_ORDER_OVERFLOW)"),
                new Option("lifecycle.terminal-state-ttl", "24h", "A job's state is cleared this long (processing time) after it ended"),
                new Option("lifecycle.idle-job-ttl", "30d", "A job that has not ended is forgotten after this long without a change")));
        OPTIONS = List.copyOf(options);
    }

    public static LifecycleJobConfig from(Settings s) {
        return new LifecycleJobConfig(
                CommonConfig.from(s),
                s.get("topics.lifecycle", Topics.JOB_LIFECYCLE),
                s.get("topics.notifications", Topics.JOB_NOTIFICATIONS),
                s.get("topics.preferences", Topics.NOTIFICATION_PREFERENCES),
                s.get("lifecycle.group-id", "horizons-lifecycle"),
                s.getDuration("lifecycle.out-of-orderness", Duration.ofSeconds(30)),
                s.getDuration("lifecycle.source-idleness", Duration.ofMinutes(1)),
                new LifecycleStateMachine.Settings(
                        s.getDuration("lifecycle.reorder-timeout", Duration.ofMinutes(5)),
                        s.getInt("lifecycle.reorder-buffer-max", 16),
                        s.getDuration("lifecycle.terminal-state-ttl", Duration.ofHours(24)),
                        s.getDuration("lifecycle.idle-job-ttl", Duration.ofDays(30))));
    }
}
