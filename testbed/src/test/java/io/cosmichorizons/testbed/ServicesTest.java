package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

class ServicesTest {

    private static final Function<String, String> ENV = Map.of(
            Services.KAFKA_ENV, "kafka:9092",
            Services.JDBC_ENV, " ",
            "OTHER", "x")::get;

    @Test
    void overrideWinsOverEnvironment() {
        Services.Choice c = Services.choose("flag:9092", "--bootstrap-servers", Services.KAFKA_ENV, ENV);
        assertEquals("flag:9092", c.value());
        assertEquals("--bootstrap-servers", c.origin());
    }

    @Test
    void environmentIsUsedWhenNoOverride() {
        Services.Choice c = Services.choose(null, "--bootstrap-servers", Services.KAFKA_ENV, ENV);
        assertTrue(c.external());
        assertEquals("kafka:9092", c.value());
        assertEquals(Services.KAFKA_ENV, c.origin());
        assertEquals("kafka:9092", Services.choose("  ", "--bootstrap-servers", Services.KAFKA_ENV, ENV).value());
    }

    @Test
    void blankOrMissingMeansEmbedded() {
        Services.Choice c = Services.choose(null, "--jdbc-url", Services.JDBC_ENV, ENV);
        assertFalse(c.external());
        assertNull(c.value());
        assertFalse(Services.choose("", "--jdbc-url", "UNSET", ENV).external());
    }

    @Test
    void externalServicesStartNothing() {
        try (Services s = Services.builder()
                .environment(Map.of(Services.KAFKA_ENV, "kafka:9092"))
                .jdbcUrl("jdbc:postgresql://db:5432/horizons?user=u&password=p")
                .start()) {
            assertEquals(new ServiceEndpoints("kafka:9092", "jdbc:postgresql://db:5432/horizons?user=u&password=p"),
                    s.endpoints());
            assertTrue(s.kafka().isEmpty());
            assertTrue(s.postgres().isEmpty());
            assertEquals("Kafka: external at kafka:9092 (KAFKA_BOOTSTRAP_SERVERS)", s.summary().get(0));
            assertEquals("PostgreSQL: external at jdbc:postgresql://db:5432/horizons?user=u&password=*** (--jdbc-url)",
                    s.summary().get(1));
        }
    }
}
