package io.cosmichorizons.pipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.pipeline.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsJobConfigTest {

    @Test
    void alertsAreExactlyOnceUnlessAskedOtherwise() {
        assertTrue(MetricsJobConfig.from(Settings.of(Map.of())).alertsExactlyOnce());
        assertTrue(MetricsJobConfig.from(Settings.of(Map.of("alerts.delivery", "exactly-once"))).alertsExactlyOnce());
        assertFalse(MetricsJobConfig.from(Settings.of(Map.of("alerts.delivery", "At-Least-Once"))).alertsExactlyOnce());
        assertThrows(IllegalArgumentException.class,
                () -> MetricsJobConfig.from(Settings.of(Map.of("alerts.delivery", "sometimes"))));
    }
}
