package io.cosmichorizons.topics;

import java.util.List;
import java.util.Map;

/**
 * The one place where topic names, partition counts and topic configs live. Every producer, job and command takes its
 * defaults from here; each name can be overridden by configuration.
 */
public final class Topics {

    public static final String JOB_LIFECYCLE = "job-lifecycle";
    public static final String JOB_METRICS = "job-metrics";
    public static final String AUDIT_TRAIL = "audit-trail";
    public static final String JOB_NOTIFICATIONS = "job-notifications";
    public static final String SYSTEM_ALERTS = "system-alerts";
    public static final String DEAD_LETTERS = "job-events-dlq";
    public static final String NOTIFICATION_PREFERENCES = "notification-preferences";
    public static final String METRICS_AGGREGATES = "metrics-aggregates";

    /** Input topics are keyed by job_id and spread over this many partitions. */
    public static final int INPUT_PARTITIONS = 12;

    public static final int OUTPUT_PARTITIONS = 6;

    /** A topic the platform needs, with how it should be created. */
    public record TopicSpec(String name, int partitions, Map<String, String> configs, String purpose) {}

    private static final Map<String, String> RETAIN_7_DAYS = Map.of("retention.ms", String.valueOf(7L * 24 * 3600 * 1000));
    private static final Map<String, String> RETAIN_30_DAYS = Map.of("retention.ms", String.valueOf(30L * 24 * 3600 * 1000));

    /** Every topic, in the order `topics create` creates them. */
    public static final List<TopicSpec> ALL = List.of(
            new TopicSpec(JOB_LIFECYCLE, INPUT_PARTITIONS, RETAIN_7_DAYS, "job lifecycle events (input, key job_id)"),
            new TopicSpec(JOB_METRICS, INPUT_PARTITIONS, RETAIN_7_DAYS, "job metrics samples (input, key job_id)"),
            new TopicSpec(AUDIT_TRAIL, INPUT_PARTITIONS, RETAIN_30_DAYS, "audited platform actions (input, key resource_id)"),
            new TopicSpec(JOB_NOTIFICATIONS, OUTPUT_PARTITIONS, RETAIN_7_DAYS, "one notification per job end (output, transactional)"),
            new TopicSpec(SYSTEM_ALERTS, OUTPUT_PARTITIONS, RETAIN_7_DAYS, "alerts, open and resolved (output, transactional)"),
            new TopicSpec(DEAD_LETTERS, OUTPUT_PARTITIONS, RETAIN_30_DAYS, "rejected records with reason and original bytes"),
            new TopicSpec(NOTIFICATION_PREFERENCES, 1, Map.of("cleanup.policy", "compact"), "users' notification channels (compacted, key user_id)"),
            new TopicSpec(METRICS_AGGREGATES, OUTPUT_PARTITIONS, RETAIN_7_DAYS, "per-job windowed metrics (output)"));

    private Topics() {}
}
