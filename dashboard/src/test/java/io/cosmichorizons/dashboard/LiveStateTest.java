package io.cosmichorizons.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cosmichorizons.dashboard.LiveState.DeadLetterSeen;
import io.cosmichorizons.dashboard.Views.DeadLetterStats;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LiveStateTest {
    private final EventHub hub = new EventHub();
    private final LiveState state = new LiveState(hub, () -> 1_000_000L);

    @AfterEach
    void close() {
        hub.close();
    }

    @Test
    void aRecordThatSeveralJobsDeadLetteredCountsOnce() {
        // The lifecycle job and the audit job both read job-lifecycle, and both dead-letter its bad records.
        state.countDeadLetters(List.of(new DeadLetterSeen("job-lifecycle/0@7", "UNPARSEABLE"),
                new DeadLetterSeen("job-metrics/1@3", "MISSING_FIELD")));
        state.countDeadLetters(List.of(new DeadLetterSeen("job-lifecycle/0@7", "UNPARSEABLE"),
                new DeadLetterSeen(null, "UNDECODABLE"), new DeadLetterSeen(null, "UNDECODABLE")));
        DeadLetterStats stats = state.snapshot().health().deadLetters();
        assertEquals(4, stats.total());
        assertEquals(4, stats.lastFiveMinutes());
        assertEquals(Map.of("UNPARSEABLE", 1L, "MISSING_FIELD", 1L, "UNDECODABLE", 2L), stats.byReason());
    }
}
