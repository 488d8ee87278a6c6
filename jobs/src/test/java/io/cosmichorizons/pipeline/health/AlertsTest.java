package io.cosmichorizons.pipeline.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class AlertsTest {
    @Test
    void minutesAreShownToATenthRoundedHalfUp() {
        assertEquals("0.0 min", Alerts.minutes(0));
        assertEquals("0.0 min", Alerts.minutes(2_999));
        assertEquals("0.1 min", Alerts.minutes(3_000));
        assertEquals("1.5 min", Alerts.minutes(90_000));
        assertEquals("10.0 min", Alerts.minutes(600_000));
        assertEquals("1440.0 min", Alerts.minutes(86_400_000));
        assertEquals("-1.5 min", Alerts.minutes(-90_000));
        assertEquals("0.0 min", Alerts.minutes(-2_999));
    }
}
