package io.cosmichorizons.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.verification.PublishedInputs.FuzzedRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends seeded random mutations of valid input records to every input topic, each of them invalid, and returns where
 * each one landed so that the comparison can find its dead letter. The originals are taken from the topics
 * themselves (the generator's records), so every mutation starts from a realistic event.
 */
public final class Fuzzer {

    /** How a record is broken, and the dead-letter reason it must get (null: any reason). */
    public enum Mutation {
        TRUNCATED_AVRO(DeadLetterReason.UNPARSEABLE),
        FLIPPED_HEADER_BYTES(null),
        HUGE_FIELD(DeadLetterReason.TOO_LARGE),
        WRONG_TYPE(null),
        DEEP_JSON(null),
        INVALID_UTF8(DeadLetterReason.UNPARSEABLE),
        TIMESTAMP_FAR_PAST(DeadLetterReason.INVALID_VALUE),
        TIMESTAMP_FAR_FUTURE(DeadLetterReason.INVALID_VALUE),
        KEY_NOT_JOB_ID(DeadLetterReason.KEY_MISMATCH);

        final DeadLetterReason expected;

        Mutation(DeadLetterReason expected) {
            this.expected = expected;
        }
    }

    /** Bigger than any record the chaos run lets the jobs accept ({@code decoder.max-record-bytes}). */
    static final int HUGE_FIELD_BYTES = 300 * 1024;
    public static final int MAX_RECORD_BYTES = 256 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TEN_YEARS_MS = Duration.ofDays(3650).toMillis();

    private record Original(String topic, EventKind kind, byte[] key, byte[] value, long timestamp, SpecificRecord event) {}

    private final String bootstrapServers;
    private final TopicNames topics;
    private final Random random;

    public Fuzzer(String bootstrapServers, TopicNames topics, long seed) {
        this.bootstrapServers = bootstrapServers;
        this.topics = topics;
        this.random = new Random(seed);
    }

    /**
     * Sends {@code count} broken records, spread over the four input topics, and reports progress every 10,000.
     * Huge fields are one in 500, so the run stays within the broker's disk and the machine's memory.
     */
    public List<FuzzedRecord> send(int count, Consumer<String> progress) {
        List<Original> originals = originals(200);
        if (originals.isEmpty()) {
            throw new IllegalStateException("No valid records to mutate in " + topics);
        }
        List<FuzzedRecord> sent = new ArrayList<>(count);
        List<Future<RecordMetadata>> pending = new ArrayList<>();
        List<Mutation> kinds = new ArrayList<>();
        List<Mutation> common = Arrays.stream(Mutation.values()).filter(x -> x != Mutation.HUGE_FIELD).toList();
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (int i = 0; i < count; i++) {
                Original o = originals.get(random.nextInt(originals.size()));
                Mutation m = i % 500 == 499 ? Mutation.HUGE_FIELD : common.get(random.nextInt(common.size()));
                pending.add(producer.send(mutate(o, m)));
                kinds.add(m);
                if (pending.size() == 2_000 || i == count - 1) {
                    for (int j = 0; j < pending.size(); j++) {
                        RecordMetadata md = pending.get(j).get();
                        Mutation k = kinds.get(j);
                        boolean preference = md.topic().equals(topics.notificationPreferences());
                        // Fuzzed preferences all get a key that is not their user id (see mutate): any reason will do.
                        sent.add(new FuzzedRecord(md.topic(), md.partition(), md.offset(), k.name(),
                                k.expected == null || preference ? null : k.expected.name()));
                    }
                    pending.clear();
                    kinds.clear();
                }
                if ((i + 1) % 10_000 == 0) {
                    progress.accept("fuzz: " + (i + 1) + " of " + count + " broken records sent");
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("Fuzzing failed: " + e, e);
        }
        return sent;
    }

    private ProducerRecord<byte[], byte[]> mutate(Original o, Mutation m) {
        byte[] key = o.key();
        byte[] value;
        long timestamp = o.timestamp();
        ObjectNode json = (ObjectNode) readJson(JsonCodec.encode(o.event()));
        switch (m) {
            case TRUNCATED_AVRO -> {
                byte[] avro = io.cosmichorizons.serde.AvroCodec.encode(o.event());
                value = Arrays.copyOf(avro, 10 + random.nextInt(Math.max(1, (avro.length - 10) / 2)));
            }
            case FLIPPED_HEADER_BYTES -> {
                byte[] avro = io.cosmichorizons.serde.AvroCodec.encode(o.event());
                int at = random.nextInt(io.cosmichorizons.serde.AvroCodec.HEADER_LENGTH);
                avro[at] ^= (byte) (1 + random.nextInt(255));
                value = avro;
            }
            case HUGE_FIELD -> {
                json.put("fuzz_padding", "x".repeat(HUGE_FIELD_BYTES));
                value = write(json);
            }
            case WRONG_TYPE -> {
                String field = someField(json);
                JsonNode old = json.get(field);
                if (old.isNumber()) {
                    json.put(field, "not a number");
                } else {
                    json.set(field, JSON.createArrayNode().add(12345));
                }
                value = write(json);
            }
            case DEEP_JSON -> value = deepJson(json, someField(json));
            case INVALID_UTF8 -> {
                byte[] text = write(json);
                int quote = indexOf(text, (byte) '"', text.length / 2);
                byte[] broken = new byte[text.length + 2];
                System.arraycopy(text, 0, broken, 0, quote + 1);
                broken[quote + 1] = (byte) 0xC3;
                broken[quote + 2] = (byte) 0x28; // a lead byte without its continuation
                System.arraycopy(text, quote + 1, broken, quote + 3, text.length - quote - 1);
                value = broken;
            }
            case TIMESTAMP_FAR_PAST, TIMESTAMP_FAR_FUTURE -> {
                long shift = m == Mutation.TIMESTAMP_FAR_PAST ? -TEN_YEARS_MS : TEN_YEARS_MS;
                for (String field : List.of("occurred_at", "sampled_at", "updated_at")) {
                    JsonNode t = json.get(field);
                    if (t != null && t.isNumber()) {
                        json.put(field, t.asLong() + shift);
                    } else if (t != null && t.isTextual()) {
                        json.put(field, Instant.parse(t.asText()).plusMillis(shift).toString());
                    }
                }
                value = write(json);
            }
            case KEY_NOT_JOB_ID -> {
                key = ("fuzz-" + Long.toHexString(random.nextLong())).getBytes(StandardCharsets.UTF_8);
                value = o.value();
            }
            default -> throw new IllegalArgumentException(m.name());
        }
        if (o.topic().equals(topics.notificationPreferences())) {
            // Never a real user's key on the compacted topic: compaction would drop that user's valid preference.
            key = ("fuzz-" + new String(key == null ? new byte[0] : key, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        }
        return new ProducerRecord<>(o.topic(), null, timestamp, key, value);
    }

    private String someField(ObjectNode json) {
        List<String> names = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = json.fields();
        fields.forEachRemaining(e -> {
            if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                names.add(e.getKey());
            }
        });
        return names.get(random.nextInt(names.size()));
    }

    /**
     * The object with {@code field} replaced by 5,000 nested arrays. Assembled as text: Jackson's trees recurse (and
     * its writers refuse such depth), which is what the decoder has to survive.
     */
    private static byte[] deepJson(ObjectNode json, String field) {
        ObjectNode rest = json.deepCopy();
        rest.remove(field);
        String flat = new String(write(rest), StandardCharsets.UTF_8);
        String nested = "\"" + field + "\":" + "[".repeat(5_000) + "]".repeat(5_000);
        return ("{" + nested + (flat.length() > 2 ? "," : "") + flat.substring(1)).getBytes(StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        throw new IllegalArgumentException("no quote in a JSON object");
    }

    private static JsonNode readJson(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] write(JsonNode json) {
        try {
            return JSON.writeValueAsBytes(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Up to {@code perTopic} valid records of each input topic, decoded, as the originals to mutate. */
    private List<Original> originals(int perTopic) {
        List<Original> out = new ArrayList<>();
        Map<String, EventKind> inputs = Map.of(topics.lifecycle(), EventKind.LIFECYCLE, topics.metrics(), EventKind.METRICS,
                topics.auditTrail(), EventKind.AUDIT_TRAIL, topics.notificationPreferences(), EventKind.PREFERENCES);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            for (Map.Entry<String, EventKind> input : inputs.entrySet()) {
                EventDecoder decoder = new EventDecoder(input.getValue());
                List<TopicPartition> partitions = consumer.partitionsFor(input.getKey(), Duration.ofSeconds(30)).stream()
                        .map(i -> new TopicPartition(input.getKey(), i.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                int found = 0;
                Instant deadline = Instant.now().plusSeconds(5);
                while (found < perTopic && Instant.now().isBefore(deadline)) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        if (found >= perTopic) {
                            break;
                        }
                        InputEnvelope e = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                        if (e.getEvent() instanceof SpecificRecord event) {
                            out.add(new Original(r.topic(), input.getValue(), r.key(), r.value(), r.timestamp(), event));
                            found++;
                        }
                    }
                }
            }
        }
        return out;
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(1024 * 1024));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "horizons-chaos-fuzzer");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
