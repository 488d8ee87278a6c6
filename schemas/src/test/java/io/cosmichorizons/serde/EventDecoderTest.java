package io.cosmichorizons.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.internal.InputEnvelope;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class EventDecoderTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long KAFKA_TS = TestEvents.T0.toEpochMilli() + 1_000;

    static Stream<Arguments> everyInputEvent() {
        Stream<SpecificRecord> lifecycle = Arrays.stream(LifecycleEventType.values()).map(TestEvents::lifecycle);
        return Stream.concat(lifecycle, Stream.of(TestEvents.metrics(), TestEvents.audit(), TestEvents.preference()))
                .flatMap(e -> Stream.of(Arguments.of(e, "avro"), Arguments.of(e, "json")));
    }

    @ParameterizedTest(name = "{1}: {0}")
    @MethodSource("everyInputEvent")
    void decodesEveryInputTypeInBothFormats(SpecificRecord event, String format) {
        EventKind kind = EventKind.of(event);
        byte[] value = format.equals("avro") ? AvroCodec.encode(event) : JsonCodec.encode(event);
        InputEnvelope envelope = decode(kind, kind.keyOf(event), value);
        assertNull(envelope.getDeadLetter(), () -> "unexpected dead letter " + envelope.getDeadLetter());
        assertEquals(event, envelope.getEvent());
        assertArrayEquals(value, envelope.getSource().getValue().array());
        assertEquals(7, envelope.getSource().getPartition());
        assertEquals(42L, envelope.getSource().getOffset());
    }

    @Test
    void jsonAcceptsEpochMillisAndIsoTimestamps() throws Exception {
        JobLifecycleEvent event = TestEvents.lifecycle(LifecycleEventType.RUNNING);
        ObjectNode json = (ObjectNode) MAPPER.readTree(JsonCodec.encode(event));
        assertEquals("2026-11-27T10:00:00.123Z", json.get("occurred_at").asText());
        json.put("occurred_at", TestEvents.T0.toEpochMilli());
        assertEquals(event, decode(EventKind.LIFECYCLE, "job-1", MAPPER.writeValueAsBytes(json)).getEvent());
    }

    @Test
    void emptyAndNullValues() {
        assertRejected(EventKind.LIFECYCLE, "job-1", new byte[0], DeadLetterReason.EMPTY_RECORD, "empty");
        assertRejected(EventKind.METRICS, "job-1", null, DeadLetterReason.EMPTY_RECORD, "tombstone");
    }

    @Test
    void garbageBytes() {
        assertRejected(EventKind.LIFECYCLE, "job-1", new byte[] {0x00, 0x7f, 0x13, 0x37},
                DeadLetterReason.UNPARSEABLE, "Neither Avro");
    }

    @Test
    void truncatedAvro() {
        byte[] full = AvroCodec.encode(TestEvents.lifecycle(LifecycleEventType.SUBMITTED));
        assertRejected(EventKind.LIFECYCLE, "job-1", Arrays.copyOf(full, full.length - 20),
                DeadLetterReason.UNPARSEABLE, "Cannot decode");
        assertRejected(EventKind.LIFECYCLE, "job-1", Arrays.copyOf(full, 6), DeadLetterReason.UNPARSEABLE, "Truncated");
    }

    @Test
    void avroOfAnotherContractHasAnUnknownFingerprint() {
        byte[] metrics = AvroCodec.encode(TestEvents.metrics());
        assertRejected(EventKind.LIFECYCLE, "job-1", metrics, DeadLetterReason.UNKNOWN_SCHEMA, "Unknown schema fingerprint");
    }

    @Test
    void malformedJson() {
        assertRejected(EventKind.LIFECYCLE, "job-1", "{\"event_id\": ".getBytes(StandardCharsets.UTF_8),
                DeadLetterReason.UNPARSEABLE, "Not valid JSON");
        assertRejected(EventKind.AUDIT_TRAIL, "job-1", new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'},
                DeadLetterReason.UNPARSEABLE, "Not valid JSON");
    }

    @Test
    void unknownEventType() throws Exception {
        ObjectNode json = jsonOf(TestEvents.lifecycle(LifecycleEventType.QUEUED));
        json.put("event_type", "EXPLODED");
        assertRejected(EventKind.LIFECYCLE, "job-1", MAPPER.writeValueAsBytes(json),
                DeadLetterReason.UNKNOWN_EVENT_TYPE, "EXPLODED");
    }

    @ParameterizedTest
    @EnumSource(EventKind.class)
    void missingRequiredFieldInJson(EventKind kind) throws Exception {
        SpecificRecord event = sample(kind);
        ObjectNode json = jsonOf(event);
        json.remove(kind.keyField());
        assertRejected(kind, kind.keyOf(event), MAPPER.writeValueAsBytes(json), DeadLetterReason.MISSING_FIELD,
                "'" + kind.keyField() + "'");
    }

    @Test
    void blankRequiredFieldInAvro() {
        JobLifecycleEvent event = TestEvents.lifecycle(LifecycleEventType.RUNNING);
        event.setUserId(" ");
        assertRejected(EventKind.LIFECYCLE, "job-1", AvroCodec.encode(event), DeadLetterReason.MISSING_FIELD, "user_id");
    }

    @Test
    void missingDetailsAndWrongDetails() throws Exception {
        ObjectNode json = jsonOf(TestEvents.lifecycle(LifecycleEventType.SUBMITTED));
        json.remove("details");
        assertRejected(EventKind.LIFECYCLE, "job-1", MAPPER.writeValueAsBytes(json), DeadLetterReason.MISSING_FIELD, "details");

        JobLifecycleEvent wrong = TestEvents.lifecycle(LifecycleEventType.COMPLETED);
        wrong.setDetails(TestEvents.lifecycle(LifecycleEventType.RUNNING).getDetails());
        assertRejected(EventKind.LIFECYCLE, "job-1", AvroCodec.encode(wrong), DeadLetterReason.INVALID_VALUE, "CompletedDetails");
    }

    @Test
    void valuesOutOfRange() throws Exception {
        JobLifecycleEvent farFuture = TestEvents.lifecycle(LifecycleEventType.RUNNING);
        farFuture.setOccurredAt(Instant.parse("2031-01-01T00:00:00Z"));
        assertRejected(EventKind.LIFECYCLE, "job-1", AvroCodec.encode(farFuture), DeadLetterReason.INVALID_VALUE, "days away");

        ObjectNode metrics = jsonOf(TestEvents.metrics());
        metrics.put("cpu_percent", -5);
        assertRejected(EventKind.METRICS, "job-1", MAPPER.writeValueAsBytes(metrics), DeadLetterReason.INVALID_VALUE, "cpu_percent");

        ObjectNode wrongType = jsonOf(TestEvents.metrics());
        wrongType.put("memory_rss_bytes", "lots");
        assertRejected(EventKind.METRICS, "job-1", MAPPER.writeValueAsBytes(wrongType), DeadLetterReason.INVALID_VALUE, "memory_rss_bytes");

        ObjectNode notUuid = jsonOf(TestEvents.audit());
        notUuid.put("event_id", "12345");
        assertRejected(EventKind.AUDIT_TRAIL, "job-1", MAPPER.writeValueAsBytes(notUuid), DeadLetterReason.INVALID_VALUE, "UUID");
    }

    @Test
    void tooLarge() throws Exception {
        ObjectNode audit = jsonOf(TestEvents.audit());
        ((ObjectNode) audit.get("details")).put("blob", "x".repeat(EventDecoder.DEFAULT_MAX_RECORD_BYTES));
        assertRejected(EventKind.AUDIT_TRAIL, "job-1", MAPPER.writeValueAsBytes(audit), DeadLetterReason.TOO_LARGE, "limit");
    }

    @ParameterizedTest
    @EnumSource(EventKind.class)
    void keyMustEqualTheJobId(EventKind kind) {
        byte[] value = AvroCodec.encode(sample(kind));
        assertRejected(kind, "job-2", value, DeadLetterReason.KEY_MISMATCH, "differs");
        assertRejected(kind, null, value, DeadLetterReason.KEY_MISMATCH, "no key");
    }

    @Test
    void deepJsonIsRejectedNotCrashed() {
        String deep = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
        InputEnvelope envelope = decode(EventKind.LIFECYCLE, "job-1", deep.getBytes(StandardCharsets.UTF_8));
        assertNotNull(envelope.getDeadLetter());
    }

    private static SpecificRecord sample(EventKind kind) {
        return switch (kind) {
            case LIFECYCLE -> TestEvents.lifecycle(LifecycleEventType.SUBMITTED);
            case METRICS -> TestEvents.metrics();
            case AUDIT_TRAIL -> TestEvents.audit();
            case PREFERENCES -> TestEvents.preference();
        };
    }

    private static ObjectNode jsonOf(SpecificRecord event) throws Exception {
        return (ObjectNode) MAPPER.readTree(JsonCodec.encode(event));
    }

    private static InputEnvelope decode(EventKind kind, String key, byte[] value) {
        return new EventDecoder(kind).decode("topic-x", 7, 42L, KAFKA_TS,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static void assertRejected(EventKind kind, String key, byte[] value, DeadLetterReason reason, String messagePart) {
        InputEnvelope envelope = decode(kind, key, value);
        assertNull(envelope.getEvent());
        DeadLetter dl = envelope.getDeadLetter();
        assertNotNull(dl, "expected a dead letter");
        assertEquals(reason, dl.getReason(), dl.getMessage());
        assertTrue(dl.getMessage().contains(messagePart), () -> "message '" + dl.getMessage() + "' lacks '" + messagePart + "'");
        assertEquals(EventDecoder.STAGE, dl.getStage());
        assertEquals("topic-x", dl.getSource().getTopic());
        assertEquals(7, dl.getSource().getPartition());
        assertEquals(42L, dl.getSource().getOffset());
        assertEquals(KAFKA_TS, dl.getSource().getTimestamp().toEpochMilli());
        if (value == null) {
            assertNull(dl.getSource().getValue());
        } else {
            assertArrayEquals(value, dl.getSource().getValue().array());
        }
    }
}
