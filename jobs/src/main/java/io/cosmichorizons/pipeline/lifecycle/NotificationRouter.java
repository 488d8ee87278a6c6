package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.NotificationPreference;
import io.cosmichorizons.events.internal.InputEnvelope;
import java.util.List;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Sets each notification's channels from its user's preferences, held as broadcast state fed by the compacted
 * notification-preferences topic. Users without preferences get email plus in-app; muted users get none (the
 * notification is still recorded, so there is exactly one per job end).
 */
public class NotificationRouter extends BroadcastProcessFunction<Notification, InputEnvelope, Notification> {
    private static final long serialVersionUID = 1L;

    public static final MapStateDescriptor<String, NotificationPreference> PREFERENCES = new MapStateDescriptor<>(
            "notification-preferences", Types.STRING, new AvroTypeInfo<>(NotificationPreference.class));

    @Override
    public void processElement(Notification notification, ReadOnlyContext ctx, Collector<Notification> out)
            throws Exception {
        ReadOnlyBroadcastState<String, NotificationPreference> prefs = ctx.getBroadcastState(PREFERENCES);
        NotificationPreference p = prefs.get(notification.getUserId());
        Notification routed = Notification.newBuilder(notification).build();
        if (p != null) {
            routed.setChannels(p.getMuted() ? List.of() : List.copyOf(p.getChannels()));
        }
        out.collect(routed);
    }

    @Override
    public void processBroadcastElement(InputEnvelope update, Context ctx, Collector<Notification> out) throws Exception {
        NotificationPreference p = (NotificationPreference) update.getEvent();
        BroadcastState<String, NotificationPreference> prefs = ctx.getBroadcastState(PREFERENCES);
        prefs.put(p.getUserId(), p);
    }
}
