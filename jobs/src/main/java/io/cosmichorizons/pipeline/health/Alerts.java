package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertSeverity;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.OutputTag;

/**
 * Builds alert records. An alert's id is a name-based UUID of its type, its subject and the start of its episode, so
 * every record of one episode (OPEN, then RESOLVED; or the same record again after a restore) has the same id and
 * updates one row instead of adding one, while the next episode of the same problem gets a new id.
 */
public final class Alerts {
    /** Side output for operators whose main output is something else. */
    public static final OutputTag<Alert> ALERTS = new OutputTag<>("alerts", new AvroTypeInfo<>(Alert.class));

    private Alerts() {}

    public static String alertId(AlertType type, String subject, long episodeStart) {
        return UUID.nameUUIDFromBytes((type.name() + "|" + subject + "|" + episodeStart).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    public static AlertSeverity severityOf(AlertType type) {
        return switch (type) {
            case ERROR_RATE, STUCK_RUNNING -> AlertSeverity.CRITICAL;
            default -> AlertSeverity.WARNING;
        };
    }

    /**
     * An OPEN alert.
     *
     * @param episodeStart when the condition began (a job's queued_at, the last heartbeat, ...): part of the id
     * @param openedAt when the condition crossed its threshold
     */
    public static Alert open(AlertType type, String subject, String hpcSystem, long episodeStart, long openedAt,
            String message, Double value, Double threshold) {
        return Alert.newBuilder()
                .setAlertId(alertId(type, subject, episodeStart))
                .setAlertType(type)
                .setSeverity(severityOf(type))
                .setState(AlertState.OPEN)
                .setSubject(subject)
                .setHpcSystem(hpcSystem)
                .setMessage(message)
                .setValue(value)
                .setThreshold(threshold)
                .setOpenedAt(Instant.ofEpochMilli(openedAt))
                .setUpdatedAt(Instant.ofEpochMilli(openedAt))
                .setResolvedAt(null)
                .build();
    }

    /** The RESOLVED record of an open alert; never earlier than its opening. */
    public static Alert resolve(Alert open, long at, String message, Double value) {
        long resolvedAt = Math.max(at, open.getOpenedAt().toEpochMilli());
        return Alert.newBuilder(open)
                .setState(AlertState.RESOLVED)
                .setMessage(message)
                .setValue(value)
                .setUpdatedAt(Instant.ofEpochMilli(resolvedAt))
                .setResolvedAt(Instant.ofEpochMilli(resolvedAt))
                .build();
    }

    /** Minutes with one decimal, for messages. */
    /** "12.5 min", to a tenth, rounded half up; by hand, as String.format is a hot spot when many alerts are raised. */
    static String minutes(long millis) {
        long tenths = Math.round(Math.abs(millis) / 6_000.0);
        return (millis < 0 && tenths > 0 ? "-" : "") + tenths / 10 + "." + tenths % 10 + " min";
    }
}
