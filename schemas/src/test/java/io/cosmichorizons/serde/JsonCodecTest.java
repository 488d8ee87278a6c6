package io.cosmichorizons.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import org.junit.jupiter.api.Test;

class JsonCodecTest {

    @Test
    void theCanonicalFormLeavesOutFieldsThatHoldNull() throws Exception {
        JobLifecycleEvent queued = TestEvents.lifecycle(LifecycleEventType.QUEUED);
        ((QueuedDetails) queued.getDetails()).setReason(null);
        String full = JsonCodec.encodeToString(queued);
        String canonical = JsonCodec.encodeCanonical(queued);
        assertTrue(full.contains("\"reason\":null"), full);
        assertFalse(canonical.contains("reason"), canonical);
        assertEquals(full.replace(",\"reason\":null", ""), canonical);
        // Absent and null mean the same to the decoder, so the canonical form reads back as the event.
        assertEquals(queued, JsonCodec.decode(canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema()));
    }

    @Test
    void withoutNullsBothFormsAgree() {
        JobLifecycleEvent running = TestEvents.lifecycle(LifecycleEventType.RUNNING);
        assertEquals(JsonCodec.encodeToString(running), JsonCodec.encodeCanonical(running));
    }
}
