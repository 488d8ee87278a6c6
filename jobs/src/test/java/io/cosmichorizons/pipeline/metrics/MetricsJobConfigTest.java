package io.cosmichorizons.pipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJobConfig;
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

    /**
     * The generator swaps events at most this far apart, and the test suites compare the metrics job's minutes with a
     * batch recomputation: a swap wider than the watermark delay would make the comparison depend on where the
     * watermark stood when the swapped event arrived (different after every restore).
     */
    @Test
    void theGeneratorsDisorderStaysWithinTheDefaultWatermarkDelay() {
        var gap = GeneratorConfig.Injection.DEFAULT_OUT_OF_ORDER_MAX_GAP;
        assertFalse(gap.compareTo(MetricsJobConfig.from(Settings.of(Map.of())).outOfOrderness()) > 0);
        assertFalse(gap.compareTo(LifecycleJobConfig.from(Settings.of(Map.of())).outOfOrderness()) > 0);
    }
}
