package io.cosmichorizons.generator;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses, before anything is sent, a workload that the topics would reject. Kafka 4 brokers refuse records stamped
 * more than {@code message.timestamp.after.max.ms} (default 1 hour, KIP-937) ahead of their clock, and fail the whole
 * batch such a record is in. Records carry their event time, and a workload that starts now runs a day or more into
 * the future, so without this check a run would fail part-way with a vague "batch had invalid records".
 */
final class FutureTimestampCheck {
    private static final Logger LOG = LoggerFactory.getLogger(FutureTimestampCheck.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(10);

    private FutureTimestampCheck() {}

    /**
     * @throws IllegalStateException when a topic would reject the latest planned records
     */
    static void verify(GeneratorConfig config, GroundTruth.Totals planned, Instant now) {
        Duration ahead = Duration.ofMillis(planned.latestTimestamp() - now.toEpochMilli());
        if (ahead.isNegative() || ahead.isZero()) {
            return;
        }
        Map<String, Long> tolerances = tolerances(config, List.copyOf(planned.recordsPerTopic().keySet()));
        tolerances.forEach((topic, toleranceMs) -> {
            if (ahead.toMillis() > toleranceMs) {
                throw new IllegalStateException("The workload's records reach " + Instant.ofEpochMilli(planned.latestTimestamp())
                        + ", " + describe(ahead) + " ahead of now, but topic " + topic + " accepts timestamps at most "
                        + describe(Duration.ofMillis(toleranceMs)) + " ahead (" + TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG
                        + "=" + toleranceMs + "); Kafka would reject them. Start the workload earlier (startTime, e.g. "
                        + Instant.ofEpochMilli(now.toEpochMilli() - ahead.toMillis()).truncatedTo(ChronoUnit.HOURS)
                        + ") or give the topics a larger " + TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG + ".");
            }
        });
    }

    /** The effective limit of each existing topic; topics that cannot be described are left to fail on their own. */
    private static Map<String, Long> tolerances(GeneratorConfig config, List<String> topics) {
        Map<String, Object> props = new HashMap<>(config.producerProperties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        Map<String, Long> tolerances = new HashMap<>();
        try (Admin admin = Admin.create(props)) {
            for (String topic : topics) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                try {
                    Config topicConfig = admin.describeConfigs(List.of(resource)).all()
                            .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(resource);
                    ConfigEntry entry = topicConfig.get(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG);
                    if (entry != null && entry.value() != null) {
                        tolerances.put(topic, Long.parseLong(entry.value()));
                    }
                } catch (ExecutionException | TimeoutException e) {
                    LOG.warn("Cannot read the config of topic {} to check record timestamps: {}", topic, e.toString());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while reading topic configs", e);
        }
        return tolerances;
    }

    private static String describe(Duration d) {
        return d.toHours() >= 2 ? d.toHours() + " h" : d.toMinutes() + " min";
    }
}
