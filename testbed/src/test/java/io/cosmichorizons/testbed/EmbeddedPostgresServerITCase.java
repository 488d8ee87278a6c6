package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PostgreSQL of its own (not the shared one): settings, restart, kill, and reopening a kept data directory. */
class EmbeddedPostgresServerITCase {

    @Test
    void durableServerKeepsCommittedDataAcrossRestartKillAndReopen(@TempDir Path tmp) throws SQLException {
        Path dir = tmp.resolve("pg");
        int port;
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.builder().durable(true).dataDirectory(dir).build().start()) {
            port = pg.port();
            assertEquals("jdbc:postgresql://127.0.0.1:" + port + "/horizons?user=horizons&password=horizons", pg.jdbcUrl());
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement s = c.createStatement()) {
                assertEquals("on", show(s, "fsync"));
                assertEquals("on", show(s, "synchronous_commit"));
                assertEquals("on", show(s, "full_page_writes"));
                assertEquals("10", show(s, "max_prepared_transactions"));
                assertEquals("200", show(s, "max_connections"));
                assertEquals("horizons", query(s, "SELECT current_user"));
                s.execute("CREATE TABLE t (id int PRIMARY KEY)");
                s.execute("INSERT INTO t VALUES (1), (2), (3)");
            }

            long firstPid = pg.pid();
            pg.restart();
            assertEquals(port, pg.port());
            assertTrue(pg.pid() > 0 && pg.pid() != firstPid);
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement s = c.createStatement()) {
                assertEquals("3", query(s, "SELECT count(*) FROM t"));
                s.execute("INSERT INTO t VALUES (4)");
            }

            pg.kill();
            assertFalse(pg.isRunning());
            pg.start(); // crash recovery
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement s = c.createStatement()) {
                assertEquals("4", query(s, "SELECT count(*) FROM t"));
            }
        }
        assertTrue(Files.isDirectory(dir.resolve("pgdata")), "a data directory given by the caller is kept");
        assertTrue(Files.isRegularFile(dir.resolve("postgres.log")));

        // A new server on the kept data directory: no initdb, the role and database already exist.
        try (EmbeddedPostgresServer reopened = EmbeddedPostgresServer.builder().dataDirectory(dir).keepData(false)
                .build().start()) {
            try (Connection c = DriverManager.getConnection(reopened.jdbcUrl()); Statement s = c.createStatement()) {
                assertEquals("4", query(s, "SELECT count(*) FROM t"));
                assertEquals("off", show(s, "fsync"));
            }
            try (Connection c = DriverManager.getConnection(reopened.adminJdbcUrl()); Statement s = c.createStatement()) {
                assertEquals("postgres", query(s, "SELECT current_user"));
            }
        }
        assertFalse(Files.exists(dir), "keepData(false) deletes the data directory on close");
    }

    private static String show(Statement s, String setting) throws SQLException {
        return query(s, "SHOW " + setting);
    }

    private static String query(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }
}
