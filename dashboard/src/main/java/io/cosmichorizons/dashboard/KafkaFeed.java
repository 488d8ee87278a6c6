package io.cosmichorizons.dashboard;

import io.cosmichorizons.dashboard.Views.AlertView;
import io.cosmichorizons.dashboard.Views.NotificationView;
import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.DeadLetters;
import io.cosmichorizons.serde.RejectedRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read_committed consumer (no group, nothing committed) on the notifications, alerts and dead-letter topics, so
 * the page sees exactly the pipeline's committed output, within a poll (100 ms) of its commit.
 *
 * <ul>
 *   <li>alerts: the whole topic from the beginning, so the open alerts are known at start-up;</li>
 *   <li>notifications: the last {@link DashboardConfig#notificationBacklog()} per partition, then live;</li>
 *   <li>dead letters: from the end (their rate is measured from the dashboard's start).</li>
 * </ul>
 * A topic that does not exist yet is looked for again every few seconds.
 */
final class KafkaFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaFeed.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration DISCOVERY_EVERY = Duration.ofSeconds(3);

    private final DashboardConfig config;
    private final LiveState state;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final Map<String, List<TopicPartition>> assigned = new LinkedHashMap<>();
    private volatile boolean running = true;
    private long undecodable;
    private String error;

    KafkaFeed(DashboardConfig config, LiveState state) {
        this.config = config;
        this.state = state;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "horizons-dashboard");
        // The broker answers a fetch as soon as committed data is there; this bounds the wait when there is none.
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "dashboard-kafka");
        this.thread.setDaemon(true);
    }

    private volatile boolean started;

    void start() {
        started = true;
        thread.start();
    }

    private void run() {
        long nextDiscovery = 0;
        try {
            while (running) {
                if (System.currentTimeMillis() >= nextDiscovery && assigned.size() < 3) {
                    discover();
                    nextDiscovery = System.currentTimeMillis() + DISCOVERY_EVERY.toMillis();
                }
                if (assigned.isEmpty()) {
                    pause(POLL);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                if (!records.isEmpty()) {
                    apply(records);
                }
            }
        } catch (WakeupException e) {
            // close() was called
        } catch (RuntimeException e) {
            LOG.error("The dashboard's Kafka consumer stopped", e);
            state.setKafka(partitionCount(), "consumer stopped: " + e, undecodable);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Assigns the topics that exist now, each positioned as the class comment says. */
    private void discover() {
        List<String> missing = new ArrayList<>();
        boolean added = false;
        for (String topic : List.of(config.alertsTopic(), config.notificationsTopic(), config.deadLettersTopic())) {
            if (assigned.containsKey(topic)) {
                continue;
            }
            try {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                if (infos == null || infos.isEmpty()) {
                    missing.add(topic);
                    continue;
                }
                assigned.put(topic, infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList());
                added = true;
            } catch (KafkaException e) {
                missing.add(topic + " (" + e.getMessage() + ")");
            }
        }
        if (added) {
            List<TopicPartition> all = assigned.values().stream().flatMap(List::stream).toList();
            Map<TopicPartition, Long> positions = new HashMap<>();
            for (TopicPartition tp : all) {
                try {
                    positions.put(tp, consumer.position(tp, Duration.ofSeconds(5)));
                } catch (IllegalStateException | KafkaException e) {
                    // newly discovered: positioned below
                }
            }
            consumer.assign(all);
            positions.forEach(consumer::seek);
            position(all.stream().filter(tp -> !positions.containsKey(tp)).toList());
        }
        error = missing.isEmpty() ? null : "waiting for topic(s) " + String.join(", ", missing);
        state.setKafka(partitionCount(), error, undecodable);
    }

    private void position(List<TopicPartition> fresh) {
        List<TopicPartition> alerts = fresh.stream().filter(tp -> tp.topic().equals(config.alertsTopic())).toList();
        List<TopicPartition> notifications = fresh.stream()
                .filter(tp -> tp.topic().equals(config.notificationsTopic())).toList();
        List<TopicPartition> deadLetters = fresh.stream()
                .filter(tp -> tp.topic().equals(config.deadLettersTopic())).toList();
        consumer.seekToBeginning(alerts);
        consumer.seekToEnd(deadLetters);
        if (!notifications.isEmpty()) {
            // For a read_committed consumer the end offset is the last stable offset. Transaction markers take
            // offsets too, so the backlog may hold somewhat fewer records than asked for.
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(notifications, Duration.ofSeconds(10));
            Map<TopicPartition, Long> end = consumer.endOffsets(notifications, Duration.ofSeconds(10));
            for (TopicPartition tp : notifications) {
                consumer.seek(tp, Math.max(begin.get(tp), end.get(tp) - config.notificationBacklog()));
            }
        }
    }

    private void apply(ConsumerRecords<byte[], byte[]> records) {
        List<AlertView> alerts = new ArrayList<>();
        List<NotificationView> notifications = new ArrayList<>();
        List<LiveState.DeadLetterSeen> deadLetters = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String topic = r.topic();
            if (r.value() == null) {
                continue;
            }
            try {
                if (topic.equals(config.alertsTopic())) {
                    alerts.add(view(AvroCodec.decode(r.value(), Alert.class, Alert.getClassSchema())));
                } else if (topic.equals(config.notificationsTopic())) {
                    notifications.add(view(AvroCodec.decode(r.value(), Notification.class,
                            Notification.getClassSchema())));
                } else if (topic.equals(config.deadLettersTopic())) {
                    DeadLetter dl = AvroCodec.decode(r.value(), DeadLetter.class, DeadLetter.getClassSchema());
                    deadLetters.add(new LiveState.DeadLetterSeen(DeadLetters.coordinates(dl.getSource()),
                            dl.getReason().name()));
                }
            } catch (RejectedRecordException e) {
                undecodable++;
                if (topic.equals(config.deadLettersTopic())) {
                    deadLetters.add(new LiveState.DeadLetterSeen(null, "UNDECODABLE"));
                }
                LOG.debug("Skipping a record of {} that is not the expected type: {}", topic, e.getMessage());
            }
        }
        if (!alerts.isEmpty()) {
            state.applyAlerts(alerts);
        }
        if (!notifications.isEmpty()) {
            state.addNotifications(notifications);
        }
        if (!deadLetters.isEmpty()) {
            state.countDeadLetters(deadLetters);
        }
        state.setKafka(partitionCount(), error, undecodable);
    }

    private int partitionCount() {
        return assigned.values().stream().mapToInt(List::size).sum();
    }

    static AlertView view(Alert a) {
        return new AlertView(a.getAlertId(), a.getAlertType().name(), a.getSeverity().name(), a.getState().name(),
                a.getSubject(), a.getHpcSystem(), a.getMessage(), a.getValue(), a.getThreshold(),
                a.getOpenedAt().toEpochMilli(), a.getUpdatedAt().toEpochMilli(), millis(a.getResolvedAt()));
    }

    static NotificationView view(Notification n) {
        return new NotificationView(n.getNotificationId(), n.getJobId(), n.getUserId(), n.getKind().name(),
                n.getTitle(), n.getMessage(), n.getPipeline(), n.getErrorCode(), n.getErrorMessage(),
                n.getCancelReason(), n.getCancelledBy(), n.getChannels().stream().map(Enum::name).toList(),
                n.getOccurredAt().toEpochMilli());
    }

    private static Long millis(Instant t) {
        return t == null ? null : t.toEpochMilli();
    }

    private void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis()); // idle wait before looking for topics again, not a synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        if (!started) {
            consumer.close(Duration.ZERO);
            return;
        }
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
