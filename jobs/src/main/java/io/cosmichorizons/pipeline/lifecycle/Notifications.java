package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.NotificationChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** Builds the one notification a job end produces. */
public final class Notifications {
    /** Email plus in-app, for users without preferences. */
    public static final List<NotificationChannel> DEFAULT_CHANNELS = List.of(NotificationChannel.EMAIL, NotificationChannel.IN_APP);

    private Notifications() {}

    /** A name-based UUID of job id and terminal event id: the same job end always gets the same id. */
    public static String notificationId(String jobId, String terminalEventId) {
        return UUID.nameUUIDFromBytes(("notification/" + jobId + "/" + terminalEventId).getBytes(StandardCharsets.UTF_8)).toString();
    }

    public static Notification forJobEnd(JobStatus status, JobLifecycleEvent end) {
        Notification.Builder n = Notification.newBuilder()
                .setNotificationId(notificationId(end.getJobId(), end.getEventId()))
                .setJobId(end.getJobId())
                .setUserId(status.getUserId())
                .setCorrelationId(end.getCorrelationId())
                .setKind(end.getEventType())
                .setChannels(DEFAULT_CHANNELS)
                .setPipeline(status.getPipeline())
                .setOccurredAt(end.getOccurredAt());
        String job = status.getPipeline() == null ? end.getJobId() : status.getPipeline() + " job " + end.getJobId();
        switch (end.getEventType()) {
            case COMPLETED -> {
                CompletedDetails d = (CompletedDetails) end.getDetails();
                n.setExecutionTimeMs(d.getExecutionTimeMs()).setOutputRef(d.getOutputRef())
                        .setTitle("Your " + job + " completed")
                        .setMessage("Finished in " + human(d.getExecutionTimeMs()) + ". Output: " + d.getOutputRef());
            }
            case FAILED -> {
                FailedDetails d = (FailedDetails) end.getDetails();
                n.setErrorCode(d.getErrorCode()).setErrorMessage(d.getErrorMessage()).setRetryable(d.getRetryable())
                        .setTitle("Your " + job + " failed: " + d.getErrorCode())
                        .setMessage(d.getErrorMessage() + (d.getRetryable() ? " You can retry this job." : " Retrying will not help."));
            }
            case CANCELLED -> {
                CancelledDetails d = (CancelledDetails) end.getDetails();
                n.setCancelReason(d.getReason()).setCancelledBy(d.getCancelledBy())
                        .setTitle("Your " + job + " was cancelled")
                        .setMessage("Cancelled by " + d.getCancelledBy() + ": " + d.getReason());
            }
            default -> throw new IllegalArgumentException(end.getEventType() + " does not end a job");
        }
        return n.build();
    }

    static String human(long millis) {
        Duration d = Duration.ofMillis(millis);
        if (d.toHours() > 0) {
            return d.toHours() + " h " + d.toMinutesPart() + " min";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + " min " + d.toSecondsPart() + " s";
        }
        return d.toSeconds() + " s";
    }
}
