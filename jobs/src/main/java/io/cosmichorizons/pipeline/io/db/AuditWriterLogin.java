package io.cosmichorizons.pipeline.io.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;

/**
 * The audit job's own login: a LOGIN role that is a member of {@code horizons_audit_writer} (V002: INSERT and SELECT
 * on the ledger, EXECUTE on {@code audit_ensure_partition}; V009: UPDATE of {@code hash}, which the sink's fork check
 * needs and the append-only trigger never lets through) and nothing else, so the pipeline does not write the
 * ledger as the database owner. {@code bin/horizons db migrate --audit-login NAME} calls {@link #ensure} after the
 * migrations; run it as a user who may create roles (a superuser, or CREATEROLE with ADMIN on the writer role).
 */
public final class AuditWriterLogin {
    /** The NOLOGIN role V002 creates and grants the ledger privileges to. */
    public static final String WRITER_ROLE = "horizons_audit_writer";

    private AuditWriterLogin() {}

    /**
     * Creates {@code login} (or updates an existing one) with LOGIN, the given password and membership in
     * {@link #WRITER_ROLE}. Returns true when the role was created, false when it existed. The password is sent
     * SCRAM-hashed (never as plain text in a statement, so it does not end up in the server log).
     */
    public static boolean ensure(Connection c, String login, char[] password) throws SQLException {
        if (login == null || login.isBlank()) {
            throw new IllegalArgumentException("The audit login needs a name");
        }
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException("The audit login " + login + " needs a password");
        }
        if (!roleExists(c, WRITER_ROLE)) {
            throw new SQLException("Role " + WRITER_ROLE + " does not exist: the migrations create it only when the "
                    + "migrating user may create roles. Migrate as such a user, or have a DBA create it and re-run the "
                    + "grants at the end of V002__audit_ledger.sql.");
        }
        PGConnection pg = c.unwrap(PGConnection.class);
        String role = pg.escapeIdentifier(login);
        boolean created = !roleExists(c, login);
        try (Statement s = c.createStatement()) {
            if (created) {
                s.execute("CREATE ROLE " + role + " LOGIN");
            } else {
                refuseIfPrivileged(c, login);
                s.execute("ALTER ROLE " + role + " LOGIN");
            }
            s.execute("GRANT " + WRITER_ROLE + " TO " + role);
        }
        pg.alterUserPassword(login, password, null); // null: the server's password_encryption (scram-sha-256)
        return created;
    }

    /** An existing superuser or owner login would not be restricted by the membership: say so instead. */
    private static void refuseIfPrivileged(Connection c, String login) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb "
                + "OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid) "
                + "OR EXISTS (SELECT 1 FROM pg_class k WHERE k.relowner = r.oid) "
                + "FROM pg_roles r WHERE r.rolname = ?")) {
            ps.setString(1, login);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getBoolean(1)) {
                    throw new SQLException("Role " + login + " exists and has more privileges than the audit job may have "
                            + "(superuser, CREATEROLE, CREATEDB, BYPASSRLS, or it owns the database or tables): "
                            + "choose another --audit-login");
                }
            }
        }
    }

    private static boolean roleExists(Connection c, String role) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
