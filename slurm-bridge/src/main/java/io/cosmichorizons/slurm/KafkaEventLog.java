package io.cosmichorizons.slurm;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The job-lifecycle topic: events go out through {@link EventPublisher} (validated, keyed by job_id, idempotent,
 * acks=all); a group-less consumer answers end offsets and finds journalled events after a crash.
 */
public final class KafkaEventLog implements EventLog {
    private final EventPublisher publisher;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final Duration timeout;

    /**
     * @param publisher publishes the events; closed with this log
     * @param bootstrapServers for the look-back consumer
     * @param timeout for offset look-ups and the look-back read
     */
    public KafkaEventLog(EventPublisher publisher, String bootstrapServers, Duration timeout) {
        this.publisher = publisher;
        this.topic = publisher.topics().lifecycle();
        this.timeout = timeout;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "slurm-bridge-lookback");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public CompletableFuture<?> publish(JobLifecycleEvent event) {
        return publisher.publish(event);
    }

    @Override
    public void flush() {
        publisher.flush();
    }

    @Override
    public Map<Integer, Long> endOffsets() {
        List<TopicPartition> partitions = partitions();
        Map<Integer, Long> out = new TreeMap<>();
        consumer.endOffsets(partitions, timeout).forEach((tp, offset) -> out.put(tp.partition(), offset));
        return out;
    }

    @Override
    public Set<String> find(Map<Integer, Long> from, Collection<String> eventIds) {
        Set<String> wanted = new HashSet<>(eventIds);
        Set<String> found = new HashSet<>();
        List<TopicPartition> partitions = partitions();
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        Map<TopicPartition, Long> start = new HashMap<>();
        for (TopicPartition tp : partitions) {
            long offset = from.getOrDefault(tp.partition(), 0L);
            if (offset < end.get(tp)) {
                start.put(tp, offset);
            }
        }
        if (start.isEmpty()) {
            return found;
        }
        consumer.assign(start.keySet());
        start.forEach(consumer::seek);
        Instant deadline = Instant.now().plus(timeout);
        while (!start.isEmpty()) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("could not read " + topic + " back to its end within " + timeout);
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                String id = eventId(r.value());
                if (id != null && wanted.contains(id)) {
                    found.add(id);
                }
            }
            start.keySet().removeIf(tp -> consumer.position(tp, timeout) >= end.get(tp));
        }
        consumer.unsubscribe();
        return found;
    }

    private List<TopicPartition> partitions() {
        return consumer.partitionsFor(topic, timeout).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
    }

    private static String eventId(byte[] value) {
        if (value == null || value.length == 0) {
            return null;
        }
        try {
            JobLifecycleEvent e = AvroCodec.isSingleObject(value)
                    ? AvroCodec.decode(value, JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema())
                    : JsonCodec.decode(value, JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema());
            return e.getEventId();
        } catch (RejectedRecordException | RuntimeException e) {
            return null; // someone else's bad record: not one of ours
        }
    }

    @Override
    public void close() {
        try {
            publisher.close();
        } finally {
            consumer.close();
        }
    }
}
