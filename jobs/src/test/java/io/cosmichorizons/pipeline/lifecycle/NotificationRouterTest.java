package io.cosmichorizons.pipeline.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.InputEnvelope;
import java.time.Instant;
import java.util.List;
import org.apache.flink.streaming.util.BroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class NotificationRouterTest {

    @Test
    void channelsFollowTheUsersPreferencesWithEmailAndInAppAsTheDefault() throws Exception {
        try (BroadcastOperatorTestHarness<Notification, InputEnvelope, Notification> harness =
                ProcessFunctionTestHarnesses.forBroadcastProcessFunction(new NotificationRouter(), NotificationRouter.PREFERENCES)) {
            harness.processElement(notification("j1", "user-1"), 1);
            harness.processBroadcastElement(preference("user-1", List.of(NotificationChannel.WEBSOCKET), false), 2);
            harness.processBroadcastElement(preference("user-2", List.of(NotificationChannel.EMAIL), true), 3);
            harness.processElement(notification("j2", "user-1"), 4);
            harness.processElement(notification("j3", "user-2"), 5);

            List<List<NotificationChannel>> channels =
                    harness.extractOutputValues().stream().map(Notification::getChannels).toList();
            assertEquals(List.of(Notifications.DEFAULT_CHANNELS, List.of(NotificationChannel.WEBSOCKET), List.of()), channels);
        }
    }

    private static Notification notification(String jobId, String user) {
        JobStatus status = JobStatuses.submitted(LifecycleEvents.event(jobId, LifecycleEventType.SUBMITTED, 0));
        status.setUserId(user);
        return Notifications.forJobEnd(status, LifecycleEvents.event(jobId, LifecycleEventType.COMPLETED, 10));
    }

    private static InputEnvelope preference(String user, List<NotificationChannel> channels, boolean muted) {
        SourceRecord source = SourceRecord.newBuilder().setTopic("notification-preferences").setPartition(0).setOffset(0)
                .setTimestamp(Instant.EPOCH).build();
        return InputEnvelope.newBuilder().setSource(source)
                .setEvent(NotificationPreference.newBuilder().setUserId(user).setChannels(channels).setMuted(muted)
                        .setUpdatedAt(Instant.EPOCH).build())
                .build();
    }
}
