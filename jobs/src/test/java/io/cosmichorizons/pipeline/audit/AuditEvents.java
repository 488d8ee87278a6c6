package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;

/** Builds lifecycle and audit-trail events, and the envelopes the decoder makes of them at given coordinates. */
public final class AuditEvents {
    public static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

    private AuditEvents() {}

    public static JobLifecycleEvent lifecycle(String jobId, LifecycleEventType type, long secondsAfterT0) {
        Object details = switch (type) {
            case SUBMITTED -> new SubmittedDetails("imaging", "setonix", "work", 32, 64L << 30, 7_200_000L);
            case QUEUED -> new QueuedDetails("hpc-" + jobId, 2, null);
            case RUNNING -> new RunningDetails(1);
            case COMPLETED -> new CompletedDetails(600_000L, 0, "s3://out/" + jobId);
            case FAILED -> new FailedDetails("NonZeroExitCode", "exit 3", 3, false);
            case CANCELLED -> new CancelledDetails("no longer needed", "admin");
        };
        return JobLifecycleEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes((jobId + type).getBytes(StandardCharsets.UTF_8)).toString())
                .setEventType(type)
                .setJobId(jobId)
                .setUserId("user-" + Math.abs(jobId.hashCode() % 7))
                .setCorrelationId("corr-" + jobId)
                .setOccurredAt(T0.plusSeconds(secondsAfterT0))
                .setProducer("test")
                .setDetails(details)
                .build();
    }

    public static AuditTrailEvent action(String actor, String action, String resourceId, long secondsAfterT0) {
        return AuditTrailEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes((actor + action + resourceId + secondsAfterT0)
                        .getBytes(StandardCharsets.UTF_8)).toString())
                .setActor(actor)
                .setAction(action)
                .setResourceType(action.startsWith("job.") ? "job" : "dataset")
                .setResourceId(resourceId)
                .setOutcome(AuditOutcome.SUCCESS)
                .setDetails(Map.of("ip", "10.0.0.1", "agent", "cli"))
                .setOccurredAt(T0.plusSeconds(secondsAfterT0))
                .setCorrelationId("corr-" + resourceId)
                .build();
    }

    /** The decoder's envelope of {@code event}, as if read from topic/partition/offset with Kafka timestamp ts. */
    public static InputEnvelope envelope(String topic, int partition, long offset, long kafkaTimestamp,
            SpecificRecord event) {
        EventKind kind = EventKind.of(event);
        InputEnvelope env = new EventDecoder(kind).decode(topic, partition, offset, kafkaTimestamp,
                kind.keyOf(event).getBytes(StandardCharsets.UTF_8), AvroCodec.encode(event));
        if (env.getDeadLetter() != null) {
            throw new IllegalArgumentException(env.getDeadLetter().getMessage());
        }
        return env;
    }
}
