package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.testbed.RealServices;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code db migrate --audit-login} end to end, against the real PostgreSQL. */
class DbCommandITCase {

    private record Run(int exit, String out, String err) {}

    private static Run migrate(Map<String, String> environment, String... args) {
        DbCommand.Migrate command = new DbCommand.Migrate();
        command.environment = environment::get;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(command).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void migrateCreatesTheAuditJobsLoginWithThePasswordFromTheEnvironment() throws Exception {
        String url = RealServices.freshDatabase("db_cli_audit_login");
        // As in docker-compose.yml: migrated by a user who may create roles.
        String admin = RealServices.postgres().map(p -> p.adminJdbcUrl(JdbcUrls.database(url))).orElse(url);
        // Roles are cluster-wide and the server is shared: names of this test's own, dropped at the end.
        String login = RealServices.uniqueName("horizons_audit_cli");
        String password = RealServices.uniqueName("pw");
        try {
            Run refused = migrate(Map.of(), "--jdbc-url", admin, "--audit-login", login);
            assertNotEquals(0, refused.exit(), "no password, no login");
            assertTrue(refused.err().contains("needs its password in the environment variable AUDIT_DB_PASSWORD"),
                    refused.err());

            Run created = migrate(Map.of("AUDIT_DB_PASSWORD", password), "--jdbc-url", admin, "--audit-login", login);
            assertEquals(0, created.exit(), created.err());

            String writerUrl = admin.replaceFirst("\\?.*$", "") + "?user=" + login + "&password=" + password;
            try (Connection writer = DriverManager.getConnection(writerUrl); Statement s = writer.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_events")) {
                    assertTrue(rs.next());
                    assertEquals(0, rs.getLong(1), "the login reads the ledger");
                }
                SQLException denied = assertThrows(SQLException.class, () -> s.execute("DELETE FROM audit_events"));
                assertEquals("42501", denied.getSQLState(), denied.getMessage());
            }

            Run again = migrate(Map.of("AUDIT_DB_PASSWORD", password), "--jdbc-url", admin, "--audit-login", login);
            assertEquals(0, again.exit(), "a second run is an update: " + again.err());
        } finally {
            try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + login);
            }
        }
    }
}
