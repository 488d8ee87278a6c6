package io.cosmichorizons.pipeline.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cosmichorizons.pipeline.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThresholdsTest {
    private static final Map<String, String> BUILT_IN = Map.of("queue-sla", "1h", "error-rate-open", "0.25");

    @Test
    void theMostSpecificSettingWins() {
        Thresholds t = Thresholds.from(Settings.of(Map.of(
                "health.queue-sla", "2h",
                "health.thresholds.setonix.queue-sla", "3h",
                "health.thresholds.setonix.debug.queue-sla", "10m",
                "health.thresholds.*.gpu.queue-sla", "4h",
                "health.thresholds.gadi.error-rate-open", "0.5")), BUILT_IN);
        assertEquals(Duration.ofMinutes(10), t.duration("queue-sla", "setonix", "debug"));
        assertEquals(Duration.ofHours(4), t.duration("queue-sla", "gadi", "gpu"), "any system, this queue");
        assertEquals(Duration.ofHours(3), t.duration("queue-sla", "setonix", "work"));
        assertEquals(Duration.ofHours(2), t.duration("queue-sla", "frontier", "work"), "the configured default");
        assertEquals(0.5, t.number("error-rate-open", "gadi", null));
        assertEquals(0.25, t.number("error-rate-open", "setonix", null), "the built-in default");
        // Parsed values are kept per system and queue: asking again, in another order, gives the same answers.
        for (int i = 0; i < 2; i++) {
            assertEquals(Duration.ofHours(3).toMillis(), t.millis("queue-sla", "setonix", "work"));
            assertEquals(Duration.ofMinutes(10).toMillis(), t.millis("queue-sla", "setonix", "debug"));
            assertEquals(Duration.ofHours(4).toMillis(), t.millis("queue-sla", null, "gpu"));
            assertEquals(Duration.ofHours(2).toMillis(), t.millis("queue-sla", null, null));
            assertEquals(0.25, t.number("error-rate-open", "setonix", null));
            assertEquals(0.5, t.number("error-rate-open", "gadi", null));
        }
    }

    @Test
    void nestedYamlKeysAreTheSameSettings() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("thresholds", ".yaml");
        java.nio.file.Files.writeString(file, """
                health:
                  queue-sla: 2h
                  thresholds:
                    setonix:
                      debug:
                        queue-sla: 15m
                """);
        Thresholds t = Thresholds.from(Settings.fromArgs(new String[] {"--config", file.toString()}), BUILT_IN);
        assertEquals(Duration.ofMinutes(15), t.duration("queue-sla", "setonix", "debug"));
        assertEquals(Duration.ofHours(2), t.duration("queue-sla", "setonix", "work"));
        java.nio.file.Files.delete(file);
    }

    @Test
    void unknownNamesAndBadValuesFailAtStartup() {
        assertThrows(IllegalArgumentException.class, () -> Thresholds.from(
                Settings.of(Map.of("health.thresholds.setonix.queue-slaa", "1h")), BUILT_IN));
        assertThrows(IllegalArgumentException.class, () -> Thresholds.from(
                Settings.of(Map.of("health.thresholds.setonix.queue-sla", "soon")), BUILT_IN));
        assertThrows(IllegalArgumentException.class, () -> Thresholds.from(
                Settings.of(Map.of("health.error-rate-open", "high")), BUILT_IN));
    }
}
