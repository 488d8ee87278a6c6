package io.cosmichorizons.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.publisher.EventHeaders;
import io.cosmichorizons.publisher.EventRecords;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A seeded workload published to a real broker, read back by a read_committed consumer: the counts match the ground
 * truth, the pipeline's decoder gives every injected record its tagged reason, and a second run of the same seed on
 * fresh topics produces the same bytes per key.
 */
@ExtendWith(RealServices.class)
class GeneratorITCase {
    private static final int PARTITIONS = 12;

    @Test
    void seededWorkloadArrivesAsTheGroundTruthSaysAndReplaysByteForByte() {
        GeneratorConfig first = GeneratorConfig.builder()
                .bootstrapServers(RealServices.bootstrapServers())
                .topics(freshTopics())
                .jobs(600)
                .seed(4242)
                // In the past, so that no record is stamped beyond what the broker accepts (see GeneratorConfig).
                .startTime(Instant.now().minus(Duration.ofDays(2)).truncatedTo(ChronoUnit.SECONDS))
                .inject(new GeneratorConfig.Injection(0.01, 0.02, 0.01))
                .build();
        GroundTruth.Collector truth = GroundTruth.collector();
        List<GenerationProgress> progress = new ArrayList<>();

        GenerationSummary summary = new WorkloadGenerator(first).onProgress(progress::add).run(truth);

        GroundTruth.Totals totals = truth.result().totals();
        assertTrue(totals.records() >= 10_000, "at least 10,000 events: " + totals.records());
        assertEquals(totals.records(), summary.records());
        assertEquals(totals.records(), summary.publisher().sent());
        assertEquals(totals.records(), progress.get(progress.size() - 1).acknowledged(), "the final report");
        Map<String, List<ConsumerRecord<byte[], byte[]>>> firstRun = readAll(first.topics());
        assertCountsMatch(totals, firstRun);
        assertDecoderAgreesWithTheTags(totals, firstRun, first.topics());

        GeneratorConfig second = first.toBuilder().topics(freshTopics()).build();
        new WorkloadGenerator(second).run();
        Map<String, List<ConsumerRecord<byte[], byte[]>>> secondRun = readAll(second.topics());

        assertEquals(valuesPerKey(firstRun, first.topics()), valuesPerKey(secondRun, second.topics()),
                "per key, the same sequence of values and timestamps");
    }

    @Test
    void workloadStartingNowIsRefusedBeforeAnythingIsSent() {
        TopicNames topics = freshTopics();
        GeneratorConfig startingNow = GeneratorConfig.builder()
                .bootstrapServers(RealServices.bootstrapServers())
                .topics(topics)
                .jobs(50)
                .startTime(java.time.Instant.now())
                .build();

        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> new WorkloadGenerator(startingNow).run());

        assertTrue(refused.getMessage().contains("message.timestamp.after.max.ms=3600000"), refused.getMessage());
        assertTrue(readAll(topics).values().stream().allMatch(List::isEmpty), "nothing was sent");
    }

    /** Topics as the platform creates them, except that the broker's 1 h future-timestamp limit is stated explicitly. */
    private static TopicNames freshTopics() {
        TopicNames topics = new TopicNames(RealServices.uniqueName("lifecycle"), RealServices.uniqueName("metrics"),
                RealServices.uniqueName("audit"), RealServices.uniqueName("preferences"));
        Map<String, String> oneHourAhead = Map.of("message.timestamp.after.max.ms", "3600000");
        RealServices.createTopic(topics.lifecycle(), PARTITIONS, oneHourAhead);
        RealServices.createTopic(topics.metrics(), PARTITIONS, oneHourAhead);
        RealServices.createTopic(topics.auditTrail(), PARTITIONS, oneHourAhead);
        RealServices.createTopic(topics.notificationPreferences(), 1,
                Map.of("cleanup.policy", "compact", "message.timestamp.after.max.ms", "3600000"));
        return topics;
    }

    private static Map<String, List<ConsumerRecord<byte[], byte[]>>> readAll(TopicNames topics) {
        Map<String, List<ConsumerRecord<byte[], byte[]>>> records = new LinkedHashMap<>();
        for (String topic : List.of(topics.lifecycle(), topics.metrics(), topics.auditTrail(), topics.notificationPreferences())) {
            records.put(topic, TopicReader.readAll(RealServices.bootstrapServers(), topic));
        }
        return records;
    }

    private static void assertCountsMatch(GroundTruth.Totals totals, Map<String, List<ConsumerRecord<byte[], byte[]>>> read) {
        Map<String, Long> perTopic = new TreeMap<>();
        read.forEach((topic, records) -> perTopic.put(topic, (long) records.size()));
        assertEquals(totals.recordsPerTopic(), perTopic);
        // Valid events and their duplicates carry the event_type header (malformed records carry no headers);
        // a duplicate has the same bytes as its original, so each valid event counts once.
        Map<String, Long> perType = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (List<ConsumerRecord<byte[], byte[]>> records : read.values()) {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                Header type = record.headers().lastHeader(EventHeaders.EVENT_TYPE);
                if (type != null && seen.add(record.topic() + "/" + Base64.getEncoder().encodeToString(record.value()))) {
                    perType.merge(new String(type.value(), StandardCharsets.UTF_8), 1L, Long::sum);
                }
            }
        }
        assertEquals(totals.validEventsPerType(), perType);
    }

    /** What the pipeline's deserializer makes of the lifecycle topic, deduplicated by event id as the pipeline does. */
    private static void assertDecoderAgreesWithTheTags(GroundTruth.Totals totals,
            Map<String, List<ConsumerRecord<byte[], byte[]>>> read, TopicNames topics) {
        Map<String, EventDecoder> decoders = Map.of(
                topics.lifecycle(), new EventDecoder(EventKind.LIFECYCLE),
                topics.metrics(), new EventDecoder(EventKind.METRICS),
                topics.auditTrail(), new EventDecoder(EventKind.AUDIT_TRAIL));
        Map<DeadLetterReason, Long> deadLetters = new EnumMap<>(DeadLetterReason.class);
        Map<String, Long> accepted = new TreeMap<>();
        Set<String> eventIds = new HashSet<>();
        decoders.forEach((topic, decoder) -> {
            for (ConsumerRecord<byte[], byte[]> r : read.get(topic)) {
                InputEnvelope decoded = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                if (decoded.getDeadLetter() != null) {
                    deadLetters.merge(decoded.getDeadLetter().getReason(), 1L, Long::sum);
                } else if (!eventIds.add(eventId(decoded))) {
                    deadLetters.merge(DeadLetterReason.DUPLICATE_EVENT, 1L, Long::sum);
                } else {
                    accepted.merge(EventRecords.eventTypeOf((SpecificRecord) decoded.getEvent()), 1L, Long::sum);
                }
            }
        });
        Map<DeadLetterReason, Long> expected = new EnumMap<>(DeadLetterReason.class);
        for (InjectionKind kind : InjectionKind.values()) {
            if (kind.expectedReason() != null && totals.injectedPerKind().containsKey(kind)) {
                expected.put(kind.expectedReason(), totals.expectedDeadLetters(kind.expectedReason()));
            }
        }
        assertEquals(expected, deadLetters);
        Map<String, Long> expectedAccepted = new TreeMap<>(totals.validEventsPerType());
        expectedAccepted.remove("NotificationPreference");
        assertEquals(expectedAccepted, accepted);
    }

    private static String eventId(InputEnvelope decoded) {
        SpecificRecord event = (SpecificRecord) decoded.getEvent();
        return String.valueOf(event.get(event.getSchema().getField("event_id").pos()));
    }

    /** Per topic role and key: the ordered values and timestamps, comparable across runs on differently named topics. */
    private static Map<String, List<String>> valuesPerKey(Map<String, List<ConsumerRecord<byte[], byte[]>>> read,
            TopicNames topics) {
        Map<String, String> roles = Map.of(topics.lifecycle(), "lifecycle", topics.metrics(), "metrics",
                topics.auditTrail(), "audit", topics.notificationPreferences(), "preferences");
        Map<String, List<String>> perKey = new TreeMap<>();
        read.forEach((topic, records) -> {
            for (ConsumerRecord<byte[], byte[]> r : records) {
                String key = roles.get(topic) + "/" + new String(r.key(), StandardCharsets.UTF_8);
                perKey.computeIfAbsent(key, k -> new ArrayList<>())
                        .add(r.timestamp() + ":" + Base64.getEncoder().encodeToString(r.value()));
            }
        });
        return perKey;
    }
}
