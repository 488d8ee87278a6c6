package io.cosmichorizons.serde;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.topics.Topics;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/** The input contracts, with the field that must equal the Kafka key. */
public enum EventKind {
    LIFECYCLE(JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema(), Topics.JOB_LIFECYCLE, "job_id"),
    METRICS(JobMetricsEvent.class, JobMetricsEvent.getClassSchema(), Topics.JOB_METRICS, "job_id"),
    AUDIT_TRAIL(AuditTrailEvent.class, AuditTrailEvent.getClassSchema(), Topics.AUDIT_TRAIL, "resource_id"),
    PREFERENCES(NotificationPreference.class, NotificationPreference.getClassSchema(), Topics.NOTIFICATION_PREFERENCES, "user_id");

    private final Class<? extends SpecificRecord> recordClass;
    private final Schema schema;
    private final String defaultTopic;
    private final String keyField;

    EventKind(Class<? extends SpecificRecord> recordClass, Schema schema, String defaultTopic, String keyField) {
        this.recordClass = recordClass;
        this.schema = schema;
        this.defaultTopic = defaultTopic;
        this.keyField = keyField;
    }

    public Class<? extends SpecificRecord> recordClass() {
        return recordClass;
    }

    public Schema schema() {
        return schema;
    }

    public String defaultTopic() {
        return defaultTopic;
    }

    /** The field whose value is the Kafka key: job_id, or resource_id for audit-trail actions. */
    public String keyField() {
        return keyField;
    }

    public String keyOf(SpecificRecord record) {
        return String.valueOf(record.get(schema.getField(keyField).pos()));
    }

    /** The event type as it appears in headers and dead letters: the lifecycle step, or the record name. */
    public String typeOf(SpecificRecord record) {
        if (record instanceof JobLifecycleEvent e) {
            return e.getEventType().name();
        }
        if (record instanceof AuditTrailEvent a) {
            return a.getAction();
        }
        return schema.getName();
    }

    public static EventKind of(SpecificRecord record) {
        for (EventKind kind : values()) {
            if (kind.recordClass.isInstance(record)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("Not an input event: " + record.getSchema().getFullName());
    }
}
