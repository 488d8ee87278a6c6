package io.cosmichorizons.serde;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.SourceRecord;
import org.apache.avro.specific.SpecificRecord;

/** Builds dead letters, filling in what is known of the event. */
public final class DeadLetters {
    private DeadLetters() {}

    /** Where the rejected record was read, as {@code topic/partition@offset}: one input record, whichever job rejected it. */
    public static String coordinates(SourceRecord source) {
        return source.getTopic() + "/" + source.getPartition() + "@" + source.getOffset();
    }

    public static DeadLetter of(DeadLetterReason reason, String message, String stage, SourceRecord source,
            SpecificRecord event) {
        DeadLetter.Builder b = DeadLetter.newBuilder()
                .setReason(reason)
                .setMessage(message)
                .setStage(stage)
                .setSource(source);
        if (event instanceof JobLifecycleEvent e) {
            b.setJobId(e.getJobId()).setEventId(e.getEventId()).setEventType(e.getEventType().name());
        } else if (event instanceof JobMetricsEvent m) {
            b.setJobId(m.getJobId()).setEventId(m.getEventId()).setEventType("METRICS");
        } else if (event instanceof AuditTrailEvent a) {
            b.setJobId("job".equals(a.getResourceType()) ? a.getResourceId() : null)
                    .setEventId(a.getEventId()).setEventType(a.getAction());
        }
        return b.build();
    }
}
