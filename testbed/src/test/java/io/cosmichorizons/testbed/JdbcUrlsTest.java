package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {

    @Test
    void swapsTheDatabaseAndKeepsParameters() {
        assertEquals("jdbc:postgresql://127.0.0.1:5432/other?user=horizons&password=horizons",
                JdbcUrls.withDatabase("jdbc:postgresql://127.0.0.1:5432/horizons?user=horizons&password=horizons", "other"));
        assertEquals("jdbc:postgresql://db1:5432,db2:5433/other",
                JdbcUrls.withDatabase("jdbc:postgresql://db1:5432,db2:5433/main", "other"));
        assertEquals("jdbc:postgresql://localhost/other", JdbcUrls.withDatabase("jdbc:postgresql://localhost", "other"));
        assertEquals("jdbc:postgresql://localhost/other?ssl=true",
                JdbcUrls.withDatabase("jdbc:postgresql://localhost/?ssl=true", "other"));
        assertThrows(IllegalArgumentException.class, () -> JdbcUrls.withDatabase("jdbc:mysql://x/y", "z"));
    }

    @Test
    void readsTheDatabase() {
        assertEquals("horizons", JdbcUrls.database("jdbc:postgresql://127.0.0.1:5432/horizons?user=horizons"));
        assertEquals("", JdbcUrls.database("jdbc:postgresql://127.0.0.1:5432"));
    }

    @Test
    void redactsThePassword() {
        assertEquals("jdbc:postgresql://h/db?user=u&password=***&ssl=true",
                JdbcUrls.redact("jdbc:postgresql://h/db?user=u&password=secret&ssl=true"));
        assertEquals("jdbc:postgresql://h/db?password=***", JdbcUrls.redact("jdbc:postgresql://h/db?password=s"));
        assertEquals("ServiceEndpoints[bootstrapServers=k:9092, jdbcUrl=jdbc:postgresql://h/db?password=***]",
                new ServiceEndpoints("k:9092", "jdbc:postgresql://h/db?password=s").toString());
    }
}
