package io.cosmichorizons.publisher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The publisher's contract checks, record layout and failure reporting, against Kafka's MockProducer. */
class EventPublisherTest {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private static final SubmittedDetails SUBMITTED =
            new SubmittedDetails("imaging", "setonix", "work", 64, 256L << 30, 3_600_000L);

    private final MockProducer<byte[], byte[]> producer =
            new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final EventPublisher publisher = EventPublisher.builder().producerName("test-orchestrator").build(producer);

    @AfterEach
    void close() {
        publisher.close();
    }

    @Test
    void typedMethodBuildsTheEventAndKeysItByJobId() throws RejectedRecordException {
        try (var scope = CorrelationContext.with("corr-1")) {
            publisher.publishJobSubmitted("job-1", "user-0001", SUBMITTED, NOW).join();
        }

        ProducerRecord<byte[], byte[]> record = onlyRecord();
        assertEquals("job-lifecycle", record.topic());
        assertEquals("job-1", utf8(record.key()));
        assertEquals(NOW.toEpochMilli(), record.timestamp());
        JobLifecycleEvent event = AvroCodec.decode(record.value(), JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema());
        assertEquals(LifecycleEventType.SUBMITTED, event.getEventType());
        assertEquals("user-0001", event.getUserId());
        assertEquals("corr-1", event.getCorrelationId());
        assertEquals("test-orchestrator", event.getProducer());
        assertEquals(NOW, event.getOccurredAt());
        assertEquals(SUBMITTED, event.getDetails());
        assertEquals(36, UUID.fromString(event.getEventId()).toString().length());
    }

    @Test
    void everyRecordCarriesTheFiveHeaders() {
        try (var scope = CorrelationContext.with("corr-7")) {
            publisher.publishJobRunning("job-7", "user-0007", new RunningDetails(2), NOW).join();
        }

        Map<String, String> headers = headers(onlyRecord());
        assertEquals(Map.of(
                EventHeaders.CORRELATION_ID, "corr-7",
                EventHeaders.EVENT_TYPE, "RUNNING",
                EventHeaders.SCHEMA_FINGERPRINT, AvroCodec.fingerprintHex(JobLifecycleEvent.getClassSchema()),
                EventHeaders.TIMESTAMP, Long.toString(NOW.toEpochMilli()),
                EventHeaders.CONTENT_TYPE, "avro/binary"), headers);
    }

    @Test
    void jsonFormatEncodesJsonAndSaysSo() {
        try (EventPublisher json = EventPublisher.builder().format(WireFormat.JSON).build(producer)) {
            JobLifecycleEvent event = lifecycle(LifecycleEventType.QUEUED, new QueuedDetails("123", 0, null));
            json.publish(event).join();

            ProducerRecord<byte[], byte[]> record = onlyRecord();
            assertEquals("application/json", headers(record).get(EventHeaders.CONTENT_TYPE));
            assertEquals(utf8(JsonCodec.encode(event)), utf8(record.value()));
        }
    }

    @Test
    void correlationIdComesFromTheInnermostScopeOrIsNew() {
        publisher.publishJobQueued("job-1", "user-0001", new QueuedDetails("1", 0, null), NOW).join();
        try (var outer = CorrelationContext.with("outer")) {
            try (var inner = CorrelationContext.with("inner")) {
                publisher.publishJobRunning("job-1", "user-0001", new RunningDetails(1), NOW).join();
            }
            publisher.publishJobCompleted("job-1", "user-0001", new CompletedDetails(1L, 0, "out"), NOW).join();
        }

        List<String> ids = producer.history().stream().map(r -> headers(r).get(EventHeaders.CORRELATION_ID)).toList();
        UUID.fromString(ids.get(0));
        assertEquals(List.of("inner", "outer"), ids.subList(1, 3));
        assertTrue(CorrelationContext.current().isEmpty(), "closing the outer scope clears the context");
    }

    @Test
    void missingOrBlankUserIsRejected() {
        InvalidEventException nullUser = assertThrows(InvalidEventException.class,
                () -> publisher.publishJobSubmitted("job-1", null, SUBMITTED, NOW));
        assertTrue(nullUser.getMessage().contains("user_id is required"), nullUser.getMessage());
        InvalidEventException blankUser = assertThrows(InvalidEventException.class,
                () -> publisher.publishJobSubmitted("job-1", "  ", SUBMITTED, NOW));
        assertTrue(blankUser.getMessage().contains("user_id"), blankUser.getMessage());
        assertEquals(DeadLetterReason.MISSING_FIELD, blankUser.reason());
        assertTrue(producer.history().isEmpty(), "nothing is sent");
    }

    @Test
    void invalidEventsAreRejectedWithTheFieldAndTheRule() {
        assertRejected(JobLifecycleEvent.newBuilder(lifecycle(LifecycleEventType.SUBMITTED, SUBMITTED)).setEventId("42").build(),
                DeadLetterReason.INVALID_VALUE, "'event_id' is not a UUID");
        assertRejected(lifecycle(LifecycleEventType.RUNNING, new CompletedDetails(1L, 0, "out")),
                DeadLetterReason.INVALID_VALUE, "details of a RUNNING event must be RunningDetails");
        assertRejected(lifecycle(LifecycleEventType.SUBMITTED,
                        new SubmittedDetails("imaging", "setonix", "work", 0, 1L, 1L)),
                DeadLetterReason.INVALID_VALUE, "'details.requested_cores' must be > 0");
        assertRejected(lifecycle(LifecycleEventType.SUBMITTED, new SubmittedDetails(null, "setonix", "work", 1, 1L, 1L)),
                DeadLetterReason.MISSING_FIELD, "'details.pipeline' is missing");
        assertRejected(JobLifecycleEvent.newBuilder(lifecycle(LifecycleEventType.SUBMITTED, SUBMITTED))
                        .setOccurredAt(NOW.minus(Duration.ofDays(400))).build(),
                DeadLetterReason.INVALID_VALUE, "'occurred_at'");
        assertRejected(new JobLifecycleEvent(UUID.randomUUID().toString(), null, "job-1", "user-0001", "c", NOW, "p",
                SUBMITTED), DeadLetterReason.MISSING_FIELD, "'event_type' is missing");
        assertTrue(producer.history().isEmpty(), "nothing is sent");
    }

    @Test
    void invalidMetricsSampleRejectsTheWholeBatch() {
        List<JobMetricsEvent> batch = List.of(sample("job-1", 10.0), sample("job-1", -1.0));
        InvalidEventException e = assertThrows(InvalidEventException.class, () -> publisher.publishMetrics(batch));
        assertTrue(e.getMessage().contains("'cpu_percent' must be a finite number >= 0"), e.getMessage());
        assertTrue(producer.history().isEmpty(), "nothing is sent");
    }

    @Test
    void metricsBatchIsSentFlushedAndAcknowledgedTogether() {
        List<RecordMetadata> acks = publisher.publishMetrics(List.of(sample("job-1", 10), sample("job-2", 20))).join();

        assertEquals(2, acks.size());
        assertTrue(producer.flushed());
        assertEquals(List.of("job-1", "job-2"), producer.history().stream().map(r -> utf8(r.key())).toList());
        assertEquals(List.of("job-metrics"), producer.history().stream().map(ProducerRecord::topic).distinct().toList());
        assertEquals("JobMetricsEvent", headers(producer.history().get(0)).get(EventHeaders.EVENT_TYPE));
    }

    @Test
    void auditActionsAreKeyedByResourceAndPreferencesByUser() {
        AuditTrailEvent audit = new AuditTrailEvent(UUID.randomUUID().toString(), "user-0001", "dataset.download",
                "dataset", "dataset-9", AuditOutcome.SUCCESS, Map.of(), NOW, "corr-a");
        publisher.publish(audit).join();
        publisher.publishPreference(new NotificationPreference("user-0001", List.of(NotificationChannel.WEBSOCKET), false, NOW))
                .join();

        ProducerRecord<byte[], byte[]> auditRecord = producer.history().get(0);
        assertEquals("audit-trail", auditRecord.topic());
        assertEquals("dataset-9", utf8(auditRecord.key()));
        assertEquals("dataset.download", headers(auditRecord).get(EventHeaders.EVENT_TYPE));
        assertEquals("corr-a", headers(auditRecord).get(EventHeaders.CORRELATION_ID));
        ProducerRecord<byte[], byte[]> preferenceRecord = producer.history().get(1);
        assertEquals("notification-preferences", preferenceRecord.topic());
        assertEquals("user-0001", utf8(preferenceRecord.key()));
    }

    @Test
    void preferenceWithBlankUserIsRejected() {
        InvalidEventException e = assertThrows(InvalidEventException.class,
                () -> publisher.publishPreference(new NotificationPreference(" ", List.of(), true, NOW)));
        assertTrue(e.getMessage().contains("'user_id' is empty"), e.getMessage());
    }

    @Test
    void sendRawSendsExactlyWhatItIsGiven() {
        byte[] garbage = {1, 2, 3};
        List<Header> headers = List.of(new RecordHeader("h", new byte[] {9}));
        publisher.sendRaw("any-topic", "k".getBytes(StandardCharsets.UTF_8), garbage, 123L, headers).join();

        ProducerRecord<byte[], byte[]> record = onlyRecord();
        assertEquals("any-topic", record.topic());
        assertEquals(garbage, record.value());
        assertEquals(123L, record.timestamp());
        assertEquals(1, record.headers().toArray().length);
    }

    @Test
    void sendFailureCompletesTheFutureExceptionallyAndIsCounted() {
        producer.sendException = new TimeoutException("Topic job-lifecycle not present in metadata after 1000 ms.");

        CompletableFuture<RecordMetadata> future = publisher.publishJobRunning("job-1", "user-0001", new RunningDetails(1), NOW);

        CompletionException e = assertThrows(CompletionException.class, future::join);
        EventPublishException cause = assertInstanceOf(EventPublishException.class, e.getCause());
        assertInstanceOf(TimeoutException.class, cause.getCause());
        assertTrue(cause.getMessage().contains("job-lifecycle (key job-1)"), cause.getMessage());
        assertEquals(1, publisher.metrics().failed());
        assertEquals(0, publisher.metrics().sent());
    }

    @Test
    void brokerErrorAfterSendFailsTheFuture() {
        MockProducer<byte[], byte[]> manual = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
        try (EventPublisher p = EventPublisher.builder().build(manual)) {
            CompletableFuture<RecordMetadata> first = p.publishJobRunning("job-1", "user-0001", new RunningDetails(1), NOW);
            CompletableFuture<RecordMetadata> second = p.publishJobRunning("job-2", "user-0001", new RunningDetails(1), NOW);
            manual.completeNext();
            manual.errorNext(new TimeoutException("Expiring 1 record(s): 2000 ms has passed since batch creation"));

            first.join();
            assertThrows(CompletionException.class, second::join);
            PublisherMetrics metrics = p.metrics();
            assertEquals(1, metrics.sent());
            assertEquals(1, metrics.failed());
            assertEquals(1, metrics.latency().count());
        }
    }

    @Test
    void metricsCountAcknowledgementsAndLatency() {
        for (int i = 0; i < 10; i++) {
            publisher.publishJobRunning("job-" + i, "user-0001", new RunningDetails(1), NOW).join();
        }

        PublisherMetrics metrics = publisher.metrics();
        assertEquals(10, metrics.sent());
        assertEquals(0, metrics.failed());
        assertEquals(10, metrics.latency().count());
        assertTrue(metrics.latency().p50Millis() <= metrics.latency().p99Millis());
        assertTrue(metrics.latency().p99Millis() <= metrics.latency().maxMillis());
    }

    @Test
    void producerIsIdempotentWithConfigurableTimeouts() {
        EventPublisher.Builder builder = EventPublisher.builder()
                .bootstrapServers("localhost:9092")
                .maxBlock(Duration.ofSeconds(1))
                .deliveryTimeout(Duration.ofSeconds(2));

        Map<String, Object> config = builder.producerConfig();
        assertEquals(true, config.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
        assertEquals("all", config.get(ProducerConfig.ACKS_CONFIG));
        assertEquals(1000L, config.get(ProducerConfig.MAX_BLOCK_MS_CONFIG));
        assertEquals(2000, config.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG));
        assertEquals(1995, config.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), "fits inside the delivery timeout");
        assertThrows(IllegalArgumentException.class, () -> builder.producerProperty(ProducerConfig.ACKS_CONFIG, "1"));

        Map<String, Object> defaults = EventPublisher.builder().bootstrapServers("localhost:9092").producerConfig();
        assertEquals(60_000L, defaults.get(ProducerConfig.MAX_BLOCK_MS_CONFIG));
        assertEquals(120_000, defaults.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG));
        assertEquals(30_000, defaults.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG));
        // Kafka's own parsing accepts both (types, and delivery >= linger + request timeout).
        assertEquals(2000, new ProducerConfig(config).getInt(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG));
        assertEquals(true, new ProducerConfig(defaults).getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
    }

    @Test
    void retriedStepKeepsItsEventId() throws RejectedRecordException {
        String eventId = UUID.randomUUID().toString();
        publisher.publishLifecycle(eventId, "job-1", "user-0001", new RunningDetails(3), NOW).join();
        publisher.publishLifecycle(eventId, "job-1", "user-0001", new RunningDetails(3), NOW).join();

        for (ProducerRecord<byte[], byte[]> record : producer.history()) {
            JobLifecycleEvent event = AvroCodec.decode(record.value(), JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema());
            assertEquals(eventId, event.getEventId());
            assertEquals(LifecycleEventType.RUNNING, event.getEventType());
        }
        assertNotEquals(0, producer.history().size());
    }

    private void assertRejected(JobLifecycleEvent event, DeadLetterReason reason, String expectedInMessage) {
        InvalidEventException e = assertThrows(InvalidEventException.class, () -> publisher.publish(event));
        assertTrue(e.getMessage().contains(expectedInMessage), "message was: " + e.getMessage());
        assertTrue(e.getMessage().contains("job_id job-1"), "the message identifies the event: " + e.getMessage());
        assertEquals(reason, e.reason());
    }

    private static JobLifecycleEvent lifecycle(LifecycleEventType type, Object details) {
        return new JobLifecycleEvent(UUID.randomUUID().toString(), type, "job-1", "user-0001", "corr-1", NOW, "test", details);
    }

    private static JobMetricsEvent sample(String jobId, double cpu) {
        return new JobMetricsEvent(UUID.randomUUID().toString(), jobId, NOW, cpu, 1L << 30, 10L, 20L, 60_000L, null);
    }

    private ProducerRecord<byte[], byte[]> onlyRecord() {
        assertEquals(1, producer.history().size());
        return producer.history().get(0);
    }

    private static Map<String, String> headers(ProducerRecord<byte[], byte[]> record) {
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        for (Header h : record.headers()) {
            headers.put(h.key(), utf8(h.value()));
        }
        return headers;
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
