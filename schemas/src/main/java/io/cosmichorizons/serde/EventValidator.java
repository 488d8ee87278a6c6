package io.cosmichorizons.serde;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;

/**
 * The rules a well-formed event obeys beyond its Avro schema: required strings are not blank, ids are UUIDs, numbers
 * are in range, lifecycle details match the event type, and event time is near the reference time. Shared by the
 * publisher (which refuses to send) and the pipeline's decoder (which dead-letters).
 */
public final class EventValidator {

    /** Default for how far event time may be from the reference time (the Kafka record timestamp, or now). */
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofDays(30);

    private final Duration maxClockSkew;

    public EventValidator(Duration maxClockSkew) {
        this.maxClockSkew = maxClockSkew;
    }

    public EventValidator() {
        this(DEFAULT_MAX_CLOCK_SKEW);
    }

    /**
     * Checks the record; returns normally when it is valid.
     *
     * @param referenceTimeMillis the time event times are compared with: the Kafka record timestamp when decoding
     *     (stable under replay), the wall clock when publishing
     */
    public void validate(SpecificRecord record, long referenceTimeMillis) throws RejectedRecordException {
        if (record instanceof JobLifecycleEvent e) {
            validateLifecycle(e, referenceTimeMillis);
        } else if (record instanceof JobMetricsEvent m) {
            validateMetrics(m, referenceTimeMillis);
        } else if (record instanceof AuditTrailEvent a) {
            validateAudit(a, referenceTimeMillis);
        } else if (record instanceof NotificationPreference p) {
            required("user_id", p.getUserId());
        } else {
            throw new RejectedRecordException(DeadLetterReason.UNKNOWN_SCHEMA,
                    "Not an input event: " + record.getSchema().getFullName());
        }
    }

    private void validateLifecycle(JobLifecycleEvent e, long reference) throws RejectedRecordException {
        uuid("event_id", e.getEventId());
        required("job_id", e.getJobId());
        required("user_id", e.getUserId());
        required("correlation_id", e.getCorrelationId());
        required("producer", e.getProducer());
        time("occurred_at", e.getOccurredAt(), reference);
        Object d = e.getDetails();
        Class<?> expected = switch (e.getEventType()) {
            case SUBMITTED -> SubmittedDetails.class;
            case QUEUED -> QueuedDetails.class;
            case RUNNING -> RunningDetails.class;
            case COMPLETED -> CompletedDetails.class;
            case FAILED -> FailedDetails.class;
            case CANCELLED -> CancelledDetails.class;
        };
        if (d == null) {
            throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD,
                    "Required field 'details' is missing for " + e.getEventType());
        }
        if (!expected.isInstance(d)) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, "details of a " + e.getEventType()
                    + " event must be " + expected.getSimpleName() + ", not " + d.getClass().getSimpleName());
        }
        if (d instanceof SubmittedDetails s) {
            required("details.pipeline", s.getPipeline());
            required("details.hpc_system", s.getHpcSystem());
            required("details.queue", s.getQueue());
            positive("details.requested_cores", s.getRequestedCores());
            positive("details.requested_memory_bytes", s.getRequestedMemoryBytes());
            positive("details.requested_walltime_ms", s.getRequestedWalltimeMs());
        } else if (d instanceof QueuedDetails q) {
            required("details.hpc_job_id", q.getHpcJobId());
            nonNegative("details.queue_position", q.getQueuePosition());
        } else if (d instanceof RunningDetails r) {
            positive("details.node_count", r.getNodeCount());
        } else if (d instanceof CompletedDetails c) {
            nonNegative("details.execution_time_ms", c.getExecutionTimeMs());
            required("details.output_ref", c.getOutputRef());
        } else if (d instanceof FailedDetails f) {
            required("details.error_code", f.getErrorCode());
        } else if (d instanceof CancelledDetails c) {
            required("details.cancelled_by", c.getCancelledBy());
        }
    }

    private void validateMetrics(JobMetricsEvent m, long reference) throws RejectedRecordException {
        uuid("event_id", m.getEventId());
        required("job_id", m.getJobId());
        time("sampled_at", m.getSampledAt(), reference);
        finiteNonNegative("cpu_percent", m.getCpuPercent());
        nonNegative("memory_rss_bytes", m.getMemoryRssBytes());
        nonNegative("io_read_bytes", m.getIoReadBytes());
        nonNegative("io_write_bytes", m.getIoWriteBytes());
        nonNegative("execution_time_ms", m.getExecutionTimeMs());
        if (m.getGpuUtilizationPercent() != null) {
            finiteNonNegative("gpu_utilization_percent", m.getGpuUtilizationPercent());
        }
    }

    private void validateAudit(AuditTrailEvent a, long reference) throws RejectedRecordException {
        uuid("event_id", a.getEventId());
        required("actor", a.getActor());
        required("action", a.getAction());
        required("resource_type", a.getResourceType());
        required("resource_id", a.getResourceId());
        required("correlation_id", a.getCorrelationId());
        time("occurred_at", a.getOccurredAt(), reference);
    }

    private static void required(String field, String value) throws RejectedRecordException {
        if (value == null || value.isBlank()) {
            throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD, "Required field '" + field + "' is empty");
        }
    }

    private static void uuid(String field, String value) throws RejectedRecordException {
        required(field, value);
        try {
            UUID.fromString(value);
            if (value.length() != 36) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE,
                    "Field '" + field + "' is not a UUID: '" + AvroCodec.truncate(value, 60) + "'");
        }
    }

    private void time(String field, Instant value, long reference) throws RejectedRecordException {
        if (value == null) {
            throw new RejectedRecordException(DeadLetterReason.MISSING_FIELD, "Required field '" + field + "' is missing");
        }
        long skew = Math.abs(value.toEpochMilli() - reference);
        if (skew > maxClockSkew.toMillis()) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, "Field '" + field + "' = " + value
                    + " is " + Duration.ofMillis(skew).toDays() + " days away from the record time "
                    + Instant.ofEpochMilli(reference) + " (allowed: " + maxClockSkew.toDays() + " days)");
        }
    }

    private static void positive(String field, long value) throws RejectedRecordException {
        if (value <= 0) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, "Field '" + field + "' must be > 0, is " + value);
        }
    }

    private static void nonNegative(String field, long value) throws RejectedRecordException {
        if (value < 0) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE, "Field '" + field + "' must be >= 0, is " + value);
        }
    }

    private static void finiteNonNegative(String field, double value) throws RejectedRecordException {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new RejectedRecordException(DeadLetterReason.INVALID_VALUE,
                    "Field '" + field + "' must be a finite number >= 0, is " + value);
        }
    }
}
