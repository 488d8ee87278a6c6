package io.cosmichorizons.publisher;

import io.cosmichorizons.topics.Topics;
import java.util.Objects;

/**
 * The topics a publisher writes to. Defaults come from {@link Topics}; tests and side-by-side environments override
 * them.
 *
 * @param lifecycle job lifecycle events, key job_id
 * @param metrics job metrics samples, key job_id
 * @param auditTrail audited actions, key resource_id
 * @param notificationPreferences users' notification channels (compacted), key user_id
 */
public record TopicNames(String lifecycle, String metrics, String auditTrail, String notificationPreferences) {

    public TopicNames {
        Objects.requireNonNull(lifecycle, "lifecycle");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(auditTrail, "auditTrail");
        Objects.requireNonNull(notificationPreferences, "notificationPreferences");
    }

    /** The platform's topic names from {@link Topics}. */
    public static TopicNames defaults() {
        return new TopicNames(Topics.JOB_LIFECYCLE, Topics.JOB_METRICS, Topics.AUDIT_TRAIL, Topics.NOTIFICATION_PREFERENCES);
    }

    /** The same four names, each with {@code prefix} in front: handy for isolating a test or a benchmark run. */
    public TopicNames withPrefix(String prefix) {
        return new TopicNames(prefix + lifecycle, prefix + metrics, prefix + auditTrail, prefix + notificationPreferences);
    }
}
