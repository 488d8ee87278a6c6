package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Reads dead letters and re-publishes their original bytes: the engine behind {@code horizons dlq inspect|replay}. */
public final class DeadLetterReplay {
    private DeadLetterReplay() {}

    /** The committed dead letters of {@code topic} that match; records that are not dead letters are counted in skipped. */
    public static List<DeadLetter> read(String bootstrapServers, String topic, Predicate<DeadLetter> filter, long[] skipped) {
        List<DeadLetter> matching = new ArrayList<>();
        TopicReader.readAll(bootstrapServers, topic, Duration.ofMinutes(2), r -> {
            try {
                DeadLetter dl = AvroCodec.decode(r.value(), DeadLetter.class, DeadLetter.getClassSchema());
                if (filter.test(dl)) {
                    matching.add(dl);
                }
            } catch (RejectedRecordException e) {
                skipped[0]++;
            }
        });
        return matching;
    }

    /**
     * Re-publishes each dead letter's original key, value and timestamp to {@code toTopic}, or to its source topic when
     * {@code toTopic} is null. Headers say where it was replayed from. Returns how many were sent.
     *
     * <p>Each source record is sent once, even when several jobs dead-lettered it (the lifecycle and audit jobs both
     * read job-lifecycle, so a malformed record there has two dead letters).
     */
    public static int replay(String bootstrapServers, List<DeadLetter> deadLetters, String toTopic)
            throws InterruptedException, ExecutionException {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        int sent = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sends = new ArrayList<>();
            java.util.Set<String> sentCoordinates = new java.util.HashSet<>();
            for (DeadLetter dl : deadLetters) {
                var s = dl.getSource();
                if (s.getValue() == null || !sentCoordinates.add(s.getTopic() + "/" + s.getPartition() + "/" + s.getOffset())) {
                    continue;
                }
                RecordHeaders headers = new RecordHeaders();
                headers.add("replayed_from", (s.getTopic() + "/" + s.getPartition() + "/" + s.getOffset()).getBytes(StandardCharsets.UTF_8));
                headers.add("replayed_reason", dl.getReason().name().getBytes(StandardCharsets.UTF_8));
                sends.add(producer.send(new ProducerRecord<>(toTopic == null ? s.getTopic() : toTopic, null,
                        s.getTimestamp().toEpochMilli(), bytes(s.getKey()), bytes(s.getValue()), headers)));
                sent++;
            }
            for (Future<?> f : sends) {
                f.get();
            }
        }
        return sent;
    }

    public static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
