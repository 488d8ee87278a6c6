package io.cosmichorizons.publisher;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.serde.EventValidator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes the orchestrator's events to Kafka: job lifecycle steps, metrics samples, audit-trail actions and
 * notification preferences.
 *
 * <ul>
 *   <li>The partition key is always the contract's key field: job_id (lifecycle, metrics), resource_id (audit trail),
 *       user_id (preferences), so all events of one job stay in order on one partition.
 *   <li>Every event is checked against its schema and the contract rules before it is sent; an invalid one throws
 *       {@link InvalidEventException} and nothing is sent.
 *   <li>The Kafka record timestamp is the event time; headers are listed in {@link EventHeaders}.
 *   <li>The producer is idempotent with acks=all. Every send returns a future that completes when the broker
 *       acknowledged the record, or exceptionally with {@link EventPublishException} - also when the broker cannot be
 *       reached within {@link Builder#maxBlock} / {@link Builder#deliveryTimeout}. Records are never dropped silently.
 * </ul>
 *
 * <pre>{@code
 * try (EventPublisher publisher = EventPublisher.builder().bootstrapServers("localhost:9092").build();
 *      var scope = CorrelationContext.with(requestId)) {
 *     publisher.publishJobSubmitted(jobId, userId, details, Instant.now()).join();
 * }
 * }</pre>
 *
 * Thread-safe: one publisher per process is enough.
 */
public final class EventPublisher implements AutoCloseable {

    /** The {@code producer} field of events built by the typed methods, unless {@link Builder#producerName} says otherwise. */
    public static final String DEFAULT_PRODUCER_NAME = "orchestrator";

    private final Producer<byte[], byte[]> producer;
    private final WireFormat format;
    private final TopicNames topics;
    private final String producerName;
    private final EventChecks checks;
    private final Duration closeTimeout;
    private final SendStatistics statistics = new SendStatistics();

    private EventPublisher(Producer<byte[], byte[]> producer, Builder builder) {
        this.producer = producer;
        this.format = builder.format;
        this.topics = builder.topics;
        this.producerName = builder.producerName;
        this.checks = new EventChecks(new EventValidator(builder.maxClockSkew));
        this.closeTimeout = builder.deliveryTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------------------------------ typed lifecycle

    /** The job was submitted. A new event id; correlation id from {@link CorrelationContext}, or a new one. */
    public CompletableFuture<RecordMetadata> publishJobSubmitted(String jobId, String userId, SubmittedDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.SUBMITTED, newEventId(), jobId, userId, details, occurredAt);
    }

    /** The scheduler accepted the job. */
    public CompletableFuture<RecordMetadata> publishJobQueued(String jobId, String userId, QueuedDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.QUEUED, newEventId(), jobId, userId, details, occurredAt);
    }

    /** The job started running. */
    public CompletableFuture<RecordMetadata> publishJobRunning(String jobId, String userId, RunningDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.RUNNING, newEventId(), jobId, userId, details, occurredAt);
    }

    /** The job ended successfully. */
    public CompletableFuture<RecordMetadata> publishJobCompleted(String jobId, String userId, CompletedDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.COMPLETED, newEventId(), jobId, userId, details, occurredAt);
    }

    /** The job failed, or the scheduler rejected it. */
    public CompletableFuture<RecordMetadata> publishJobFailed(String jobId, String userId, FailedDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.FAILED, newEventId(), jobId, userId, details, occurredAt);
    }

    /** The job was cancelled. */
    public CompletableFuture<RecordMetadata> publishJobCancelled(String jobId, String userId, CancelledDetails details,
            Instant occurredAt) {
        return lifecycle(LifecycleEventType.CANCELLED, newEventId(), jobId, userId, details, occurredAt);
    }

    /**
     * A lifecycle step with a given event id, for retries: re-publishing a step with its original id lets consumers
     * recognise the copy and drop it. The event type follows from the class of {@code details}.
     */
    public CompletableFuture<RecordMetadata> publishLifecycle(String eventId, String jobId, String userId,
            SpecificRecord details, Instant occurredAt) {
        if (details == null) {
            throw new InvalidEventException(DeadLetterReason.MISSING_FIELD,
                    "Invalid JobLifecycleEvent (job_id " + jobId + "): Required field 'details' is missing (null)");
        }
        return lifecycle(typeOf(details), eventId, jobId, userId, details, occurredAt);
    }

    private CompletableFuture<RecordMetadata> lifecycle(LifecycleEventType type, String eventId, String jobId,
            String userId, SpecificRecord details, Instant occurredAt) {
        if (userId == null || userId.isBlank()) {
            throw new InvalidEventException(DeadLetterReason.MISSING_FIELD, "Invalid JobLifecycleEvent (job_id " + jobId
                    + ", event_type " + type + "): user_id is required, got " + (userId == null ? "null" : "'" + userId + "'"));
        }
        if (occurredAt == null) {
            throw new InvalidEventException(DeadLetterReason.MISSING_FIELD, "Invalid JobLifecycleEvent (job_id " + jobId
                    + ", event_type " + type + "): Required field 'occurred_at' is missing (null)");
        }
        JobLifecycleEvent event = new JobLifecycleEvent(eventId, type, jobId, userId, CorrelationContext.currentOrNew(),
                occurredAt, producerName, details);
        return publish(event);
    }

    private static LifecycleEventType typeOf(SpecificRecord details) {
        if (details instanceof SubmittedDetails) {
            return LifecycleEventType.SUBMITTED;
        } else if (details instanceof QueuedDetails) {
            return LifecycleEventType.QUEUED;
        } else if (details instanceof RunningDetails) {
            return LifecycleEventType.RUNNING;
        } else if (details instanceof CompletedDetails) {
            return LifecycleEventType.COMPLETED;
        } else if (details instanceof FailedDetails) {
            return LifecycleEventType.FAILED;
        } else if (details instanceof CancelledDetails) {
            return LifecycleEventType.CANCELLED;
        }
        throw new InvalidEventException(DeadLetterReason.INVALID_VALUE,
                "Invalid JobLifecycleEvent: " + details.getSchema().getName() + " is not a lifecycle details record");
    }

    // ------------------------------------------------------------------------------------------ prebuilt events

    /** Publishes a lifecycle event the caller built (the generator, the Slurm bridge), exactly as given. */
    public CompletableFuture<RecordMetadata> publish(JobLifecycleEvent event) {
        return checkAndSend(topics.lifecycle(), event, event.getCorrelationId());
    }

    /** Publishes an audit-trail action, keyed by its resource_id. */
    public CompletableFuture<RecordMetadata> publish(AuditTrailEvent event) {
        return checkAndSend(topics.auditTrail(), event, event.getCorrelationId());
    }

    /**
     * Publishes one metrics sample without flushing, for callers that stream samples. The correlation_id header comes
     * from {@link CorrelationContext} (samples have no such field).
     */
    public CompletableFuture<RecordMetadata> publish(JobMetricsEvent sample) {
        return checkAndSend(topics.metrics(), sample, CorrelationContext.currentOrNew());
    }

    /**
     * Publishes a batch of samples: checks all of them first (an invalid one means none is sent), sends them, flushes
     * once, and returns a future that completes when every sample is acknowledged, or exceptionally if any failed.
     */
    public CompletableFuture<List<RecordMetadata>> publishMetrics(List<JobMetricsEvent> samples) {
        long now = System.currentTimeMillis();
        samples.forEach(sample -> checks.check(sample, now));
        String correlationId = CorrelationContext.currentOrNew();
        List<CompletableFuture<RecordMetadata>> sends = new ArrayList<>(samples.size());
        for (JobMetricsEvent sample : samples) {
            sends.add(send(EventRecords.toProducerRecord(topics.metrics(), sample, format, correlationId)));
        }
        producer.flush();
        return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                .thenApply(done -> sends.stream().map(CompletableFuture::join).toList());
    }

    /** Publishes a user's notification preferences to the compacted preferences topic, keyed by user_id. */
    public CompletableFuture<RecordMetadata> publishPreference(NotificationPreference preference) {
        return checkAndSend(topics.notificationPreferences(), preference, CorrelationContext.currentOrNew());
    }

    // ------------------------------------------------------------------------------------------ raw bytes

    /**
     * Sends exact bytes with no validation and no added headers. Meant for tools that re-inject recorded bytes (dead-letter
     * replay) and for fault injection (the generator's duplicates and malformed records); everything else should use the
     * typed methods, which guarantee the contract.
     *
     * @param timestampMillis the record timestamp, or null for the producer's current time
     * @param headers headers to send as they are, or null for none
     */
    public CompletableFuture<RecordMetadata> sendRaw(String topic, byte[] key, byte[] value, Long timestampMillis,
            Iterable<Header> headers) {
        return send(new ProducerRecord<>(topic, null, timestampMillis, key, value, headers));
    }

    // ------------------------------------------------------------------------------------------ lifecycle of the publisher

    /** Blocks until every record sent so far is acknowledged or failed. */
    public void flush() {
        producer.flush();
    }

    /** Counts and send latency since the publisher was built. */
    public PublisherMetrics metrics() {
        return statistics.snapshot();
    }

    public WireFormat format() {
        return format;
    }

    public TopicNames topics() {
        return topics;
    }

    /**
     * Waits up to the delivery timeout for outstanding records, then closes the producer. Records still unacknowledged
     * then fail their futures.
     */
    @Override
    public void close() {
        producer.close(closeTimeout);
    }

    // ------------------------------------------------------------------------------------------ internals

    private CompletableFuture<RecordMetadata> checkAndSend(String topic, SpecificRecord event, String correlationId) {
        checks.check(event, System.currentTimeMillis());
        return send(EventRecords.toProducerRecord(topic, event, format, correlationId));
    }

    private CompletableFuture<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        long started = System.nanoTime();
        try {
            producer.send(record, (metadata, error) -> {
                if (error == null) {
                    if (result.complete(metadata)) {
                        statistics.recordSent(System.nanoTime() - started);
                    }
                } else {
                    fail(result, record, error);
                }
            });
        } catch (RuntimeException e) {
            // A closed producer, an interrupt, an oversized record: still a failed future, never a lost record.
            fail(result, record, e);
        }
        return result;
    }

    private void fail(CompletableFuture<RecordMetadata> result, ProducerRecord<byte[], byte[]> record, Throwable error) {
        String key = record.key() == null ? "null" : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
        if (result.completeExceptionally(new EventPublishException(
                "Could not publish to " + record.topic() + " (key " + key + "): " + error, error))) {
            statistics.recordFailed();
        }
    }

    private static String newEventId() {
        return UUID.randomUUID().toString();
    }

    /** Configures and builds an {@link EventPublisher}. Only {@link #bootstrapServers} is required. */
    public static final class Builder {
        /** Settings the publisher's guarantees depend on; producerProperty may not change them. */
        private static final Set<String> FIXED_PROPERTIES = Set.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                ProducerConfig.ACKS_CONFIG, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        private static final long DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
        private static final long DEFAULT_LINGER_MS = 5;

        private String bootstrapServers;
        private WireFormat format = WireFormat.AVRO;
        private TopicNames topics = TopicNames.defaults();
        private String producerName = DEFAULT_PRODUCER_NAME;
        private Duration maxBlock = Duration.ofSeconds(60);
        private Duration deliveryTimeout = Duration.ofSeconds(120);
        private Duration maxClockSkew = EventValidator.DEFAULT_MAX_CLOCK_SKEW;
        private final Map<String, Object> producerProperties = new LinkedHashMap<>();

        private Builder() {}

        /** Kafka bootstrap servers, e.g. {@code localhost:9092}. Required. */
        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        /** Value encoding; default {@link WireFormat#AVRO}. */
        public Builder format(WireFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /** Topic names; default {@link TopicNames#defaults()}. */
        public Builder topics(TopicNames topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /** The {@code producer} field of events built by the typed methods; default {@value EventPublisher#DEFAULT_PRODUCER_NAME}. */
        public Builder producerName(String producerName) {
            if (producerName == null || producerName.isBlank()) {
                throw new IllegalArgumentException("producerName must not be blank");
            }
            this.producerName = producerName;
            return this;
        }

        /**
         * How long a send may block waiting for metadata or buffer space (Kafka {@code max.block.ms}); default 60 s. When
         * the broker is down, the send's future fails after this long.
         */
        public Builder maxBlock(Duration maxBlock) {
            this.maxBlock = requirePositive(maxBlock, "maxBlock");
            return this;
        }

        /**
         * Upper bound on the time from send to acknowledgement, retries included (Kafka {@code delivery.timeout.ms});
         * default 120 s. Also bounds how long {@link EventPublisher#close()} waits for outstanding records.
         */
        public Builder deliveryTimeout(Duration deliveryTimeout) {
            this.deliveryTimeout = requirePositive(deliveryTimeout, "deliveryTimeout");
            return this;
        }

        /**
         * How far an event's time may be from the wall clock; default {@link EventValidator#DEFAULT_MAX_CLOCK_SKEW}.
         * Raise it only to publish simulated or historical event times (the generator does).
         */
        public Builder maxClockSkew(Duration maxClockSkew) {
            this.maxClockSkew = requirePositive(maxClockSkew, "maxClockSkew");
            return this;
        }

        /**
         * Any other Kafka producer setting, e.g. {@code linger.ms}, {@code compression.type}, {@code client.id}.
         * Idempotence, acks and the serializers are fixed and cannot be changed.
         */
        public Builder producerProperty(String key, Object value) {
            if (FIXED_PROPERTIES.contains(key)) {
                throw new IllegalArgumentException(key + " is fixed by the publisher (idempotent, acks=all, byte[] serializers)");
            }
            producerProperties.put(key, value);
            return this;
        }

        /** Builds the publisher and its KafkaProducer. */
        public EventPublisher build() {
            return build(new KafkaProducer<>(producerConfig()));
        }

        /** Builds a publisher around a given producer; for unit tests with Kafka's MockProducer. */
        EventPublisher build(Producer<byte[], byte[]> producer) {
            return new EventPublisher(producer, this);
        }

        /** The producer configuration {@link #build()} uses. */
        Map<String, Object> producerConfig() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            Map<String, Object> config = new LinkedHashMap<>();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.put(ProducerConfig.LINGER_MS_CONFIG, DEFAULT_LINGER_MS);
            config.putAll(producerProperties);
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock.toMillis());
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.toIntExact(deliveryTimeout.toMillis()));
            if (!config.containsKey(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) {
                // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms; shrink the request timeout
                // so that a short delivery timeout (tests, latency-sensitive callers) is accepted as asked.
                long linger = Long.parseLong(config.get(ProducerConfig.LINGER_MS_CONFIG).toString());
                long requestTimeout = Math.min(DEFAULT_REQUEST_TIMEOUT_MS, deliveryTimeout.toMillis() - linger);
                if (requestTimeout <= 0) {
                    throw new IllegalArgumentException("deliveryTimeout " + deliveryTimeout + " must exceed linger.ms " + linger);
                }
                config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) requestTimeout);
            }
            return config;
        }

        private static Duration requirePositive(Duration d, String name) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive, is " + d);
            }
            return d;
        }
    }
}
