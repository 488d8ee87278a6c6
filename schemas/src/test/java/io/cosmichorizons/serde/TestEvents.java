package io.cosmichorizons.serde;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** Small valid events for codec tests. */
final class TestEvents {
    static final Instant T0 = Instant.parse("2026-11-27T10:00:00.123Z");

    private TestEvents() {}

    static JobLifecycleEvent lifecycle(LifecycleEventType type) {
        Object details = switch (type) {
            case SUBMITTED -> new SubmittedDetails("imaging", "setonix", "work", 64, 256L << 30, 3_600_000L);
            case QUEUED -> new QueuedDetails("1234567", 3, "Priority");
            case RUNNING -> new RunningDetails(2);
            case COMPLETED -> new CompletedDetails(1_200_000L, 0, "s3://products/job-1/cube.fits");
            case FAILED -> new FailedDetails("OUT_OF_MEMORY", "oom-kill event", 137, true);
            case CANCELLED -> new CancelledDetails("user request", "user-0001");
        };
        return JobLifecycleEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes(type.name().getBytes()).toString())
                .setEventType(type)
                .setJobId("job-1")
                .setUserId("user-0001")
                .setCorrelationId("corr-1")
                .setOccurredAt(T0)
                .setProducer("test")
                .setDetails(details)
                .build();
    }

    static JobMetricsEvent metrics() {
        return JobMetricsEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes("m".getBytes()).toString())
                .setJobId("job-1")
                .setSampledAt(T0)
                .setCpuPercent(6350.5)
                .setMemoryRssBytes(10L << 30)
                .setIoReadBytes(1L << 33)
                .setIoWriteBytes(1L << 31)
                .setExecutionTimeMs(600_000L)
                .setGpuUtilizationPercent(null)
                .build();
    }

    static NotificationPreference preference() {
        return NotificationPreference.newBuilder()
                .setUserId("job-1")
                .setChannels(java.util.List.of(NotificationChannel.WEBSOCKET))
                .setMuted(false)
                .setUpdatedAt(T0)
                .build();
    }

    static AuditTrailEvent audit() {
        return AuditTrailEvent.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes("a".getBytes()).toString())
                .setActor("user-0001")
                .setAction("job.submit")
                .setResourceType("job")
                .setResourceId("job-1")
                .setOutcome(AuditOutcome.SUCCESS)
                .setDetails(Map.of("ip", "10.0.0.1", "client", "web"))
                .setOccurredAt(T0)
                .setCorrelationId("corr-1")
                .build();
    }
}
