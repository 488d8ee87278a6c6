package io.cosmichorizons.publisher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.testbed.RealServices;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The publisher against a real broker: what a consumer sees, what never arrives, and a broker that is not there. */
@ExtendWith(RealServices.class)
class EventPublisherITCase {
    private static final SubmittedDetails SUBMITTED =
            new SubmittedDetails("calibration", "gadi", "debug", 4, 16L << 30, 1_800_000L);

    private TopicNames topics;
    private EventPublisher publisher;

    @BeforeEach
    void createTopicsAndPublisher() {
        topics = new TopicNames(RealServices.uniqueName("lifecycle"), RealServices.uniqueName("metrics"),
                RealServices.uniqueName("audit"), RealServices.uniqueName("preferences"));
        RealServices.createTopic(topics.lifecycle(), 3);
        RealServices.createTopic(topics.metrics(), 3);
        RealServices.createTopic(topics.auditTrail(), 3);
        RealServices.createTopic(topics.notificationPreferences(), 1, Map.of("cleanup.policy", "compact"));
        publisher = EventPublisher.builder()
                .bootstrapServers(RealServices.bootstrapServers())
                .topics(topics)
                .maxBlock(Duration.ofSeconds(10))
                .deliveryTimeout(Duration.ofSeconds(20))
                .build();
    }

    @AfterEach
    void closePublisher() {
        publisher.close();
    }

    @Test
    void consumerSeesKeyHeadersAndEventTimeOfEveryRecord() {
        Instant submittedAt = Instant.now().minus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MILLIS);
        Instant queuedAt = submittedAt.plusSeconds(2);
        try (var scope = CorrelationContext.with("request-17")) {
            publisher.publishJobSubmitted("job-17", "user-0017", SUBMITTED, submittedAt);
            publisher.publishJobQueued("job-17", "user-0017", new QueuedDetails("4242", 1, "Priority"), queuedAt);
            publisher.publishMetrics(List.of(sample("job-17", queuedAt.plusSeconds(60)),
                    sample("job-17", queuedAt.plusSeconds(120)))).join();
        }
        publisher.publish(new AuditTrailEvent(UUID.randomUUID().toString(), "user-0017", "job.submit", "job", "job-17",
                AuditOutcome.SUCCESS, Map.of(), submittedAt, "request-17")).join();
        publisher.publishPreference(new NotificationPreference("user-0017", List.of(NotificationChannel.WEBSOCKET), false,
                submittedAt)).join();

        List<ConsumerRecord<byte[], byte[]>> lifecycle = TopicReader.readAll(RealServices.bootstrapServers(), topics.lifecycle());
        assertEquals(2, lifecycle.size());
        EventDecoder decoder = new EventDecoder(EventKind.LIFECYCLE);
        for (ConsumerRecord<byte[], byte[]> record : lifecycle) {
            InputEnvelope decoded = decoder.decode(record.topic(), record.partition(), record.offset(), record.timestamp(),
                    record.key(), record.value());
            assertNull(decoded.getDeadLetter(), () -> "the pipeline's decoder accepts it: " + decoded.getDeadLetter());
            JobLifecycleEvent event = (JobLifecycleEvent) decoded.getEvent();
            assertEquals("job-17", utf8(record.key()));
            assertEquals(TimestampType.CREATE_TIME, record.timestampType());
            assertEquals(event.getOccurredAt().toEpochMilli(), record.timestamp(), "Kafka timestamp = event time");
            assertEquals(Map.of(
                    EventHeaders.CORRELATION_ID, "request-17",
                    EventHeaders.EVENT_TYPE, event.getEventType().name(),
                    EventHeaders.SCHEMA_FINGERPRINT, AvroCodec.fingerprintHex(JobLifecycleEvent.getClassSchema()),
                    EventHeaders.TIMESTAMP, Long.toString(record.timestamp()),
                    EventHeaders.CONTENT_TYPE, "avro/binary"), headers(record));
        }
        assertEquals(List.of(LifecycleEventType.SUBMITTED, LifecycleEventType.QUEUED),
                lifecycle.stream().map(r -> headers(r).get(EventHeaders.EVENT_TYPE)).map(LifecycleEventType::valueOf).toList(),
                "one key, one partition, publishing order");
        assertEquals(submittedAt.toEpochMilli(), lifecycle.get(0).timestamp());

        List<ConsumerRecord<byte[], byte[]>> metrics = TopicReader.readAll(RealServices.bootstrapServers(), topics.metrics());
        assertEquals(List.of("job-17", "job-17"), metrics.stream().map(r -> utf8(r.key())).toList());
        assertEquals(queuedAt.plusSeconds(60).toEpochMilli(), metrics.get(0).timestamp());
        assertEquals("request-17", headers(metrics.get(0)).get(EventHeaders.CORRELATION_ID));

        ConsumerRecord<byte[], byte[]> audit = TopicReader.readAll(RealServices.bootstrapServers(), topics.auditTrail()).get(0);
        assertEquals("job-17", utf8(audit.key()));
        assertEquals("job.submit", headers(audit).get(EventHeaders.EVENT_TYPE));

        ConsumerRecord<byte[], byte[]> preference = TopicReader.readAll(RealServices.bootstrapServers(), topics.notificationPreferences()).get(0);
        assertEquals("user-0017", utf8(preference.key()));
        assertEquals("NotificationPreference", headers(preference).get(EventHeaders.EVENT_TYPE));

        PublisherMetrics stats = publisher.metrics();
        assertEquals(6, stats.sent());
        assertEquals(0, stats.failed());
        assertTrue(stats.latency().maxMillis() > 0);
    }

    @Test
    void invalidEventIsRejectedBeforeAnythingIsSent() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        assertThrows(InvalidEventException.class, () -> publisher.publishJobSubmitted("job-bad", "", SUBMITTED, now));
        assertThrows(InvalidEventException.class, () -> publisher.publishJobSubmitted("job-bad", "user-0001",
                new SubmittedDetails("imaging", "setonix", "work", -8, 1L, 1L), now));
        // A valid event afterwards on the same key and partition proves the topic was reachable and read to the end.
        publisher.publishJobSubmitted("job-bad", "user-0001", SUBMITTED, now).join();

        List<ConsumerRecord<byte[], byte[]>> records = TopicReader.readAll(RealServices.bootstrapServers(), topics.lifecycle());
        assertEquals(1, records.size(), "only the valid event arrived");
        assertEquals(0, publisher.metrics().failed());
    }

    @Test
    void unreachableBrokerSurfacesAsAFailedFuture() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (EventPublisher unreachable = EventPublisher.builder()
                .bootstrapServers("127.0.0.1:" + closedPort)
                .maxBlock(Duration.ofSeconds(1))
                .deliveryTimeout(Duration.ofSeconds(2))
                .build()) {

            CompletableFuture<RecordMetadata> send = unreachable.publishJobSubmitted("job-1", "user-0001", SUBMITTED,
                    Instant.now());

            CompletionException failure = assertTimeoutPreemptively(Duration.ofSeconds(15),
                    () -> assertThrows(CompletionException.class, send::join));
            EventPublishException cause = assertInstanceOf(EventPublishException.class, failure.getCause());
            assertInstanceOf(TimeoutException.class, cause.getCause());
            assertEquals(1, unreachable.metrics().failed());
            assertEquals(0, unreachable.metrics().sent());
        }
    }

    private static JobMetricsEvent sample(String jobId, Instant at) {
        return new JobMetricsEvent(UUID.randomUUID().toString(), jobId, at, 380.0, 6L << 30, 1L << 20, 1L << 18, 60_000L,
                null);
    }

    private static Map<String, String> headers(ConsumerRecord<byte[], byte[]> record) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : record.headers()) {
            headers.put(h.key(), utf8(h.value()));
        }
        return headers;
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
