package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerCrypto;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.LedgerWriter;
import io.cosmichorizons.pipeline.io.db.AuditWriterLogin;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.testbed.RealServices;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ledger table in real PostgreSQL: idempotent insert with fork detection (the sink's statement), append-only
 * triggers, day partitions created on demand, and the SQL-level check agreeing with the Java hashing.
 */
@ExtendWith(RealServices.class)
class LedgerStorageITCase {
    private static LedgerFixture ledger;

    @BeforeAll
    static void populate() throws SQLException {
        ledger = LedgerFixture.create("audit_storage")
                .addJobs("store", 40, 3, Instant.now().minus(3, ChronoUnit.DAYS), 3_000);
    }

    private static AuditRecord entry(String chain, int seq) {
        return ledger.chains.get(chain).get(seq);
    }

    private static long count(Connection c, String where) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_events WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void anIdenticalReplayIsANoOpAndAForkIsRejected() throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl)) {
            long before = count(c, "true");
            AuditRecord existing = entry("job-lifecycle/1", 5);
            // The replay after a restore: the same entries again, through the sink's statement and binder.
            LedgerWriter.write(c, List.of(existing, entry("job-lifecycle/1", 6), entry("audit-trail/2", 3)), 10);
            assertEquals(before, count(c, "true"), "an identical replay adds nothing");

            AuditRecord fork = AuditRecord.newBuilder(existing)
                    .setPayload(existing.getPayload().replace("imaging", "forged"))
                    .setHash(ByteBuffer.wrap(new LedgerCrypto().sha256("different".getBytes(StandardCharsets.UTF_8))))
                    .build();
            SQLException e = assertThrows(SQLException.class, () -> LedgerWriter.write(c, List.of(fork), 10));
            assertTrue(String.valueOf(e.getMessage()).contains("fork")
                    || String.valueOf(e.getNextException()).contains("fork"), e::getMessage);
            assertEquals(before, count(c, "true"));
            try (PreparedStatement ps = c.prepareStatement("SELECT hash FROM audit_events WHERE chain_id = ? AND seq = ?")) {
                ps.setString(1, existing.getChainId());
                ps.setLong(2, existing.getSeq());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertArrayEquals(AuditEntries.bytes(existing.getHash()), rs.getBytes(1), "the first entry is kept");
                }
            }
        }
    }

    /**
     * Two sink subtasks creating the same day partition at once: the second waits on the first's advisory lock, and
     * once the first commits, it must find the partition there (V006) instead of failing with "already exists".
     */
    @Test
    void twoSessionsCreatingTheSameDayPartitionBothSucceed() throws Exception {
        String day = "2031-01-15";
        // A database of its own: the other tests list this class's partitions.
        String url = LedgerFixture.create("audit_partition_race").jdbcUrl;
        try (Connection first = DriverManager.getConnection(url); Connection second = DriverManager.getConnection(url)) {
            first.setAutoCommit(false);
            assertEquals(2, ensurePartition(first, day), "the day and the next one");
            int secondPid = backendPid(second);
            CompletableFuture<Integer> secondCall = CompletableFuture.supplyAsync(() -> {
                try {
                    return ensurePartition(second, day);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            });
            TestStack.await("the second session waiting for the partition lock", Duration.ofSeconds(30),
                    () -> waitsOnAdvisoryLock(first, secondPid));
            first.commit();
            assertEquals(0, secondCall.get(30, TimeUnit.SECONDS), "nothing left to create, and no error");
        }
        try (Connection c = DriverManager.getConnection(url)) {
            assertEquals(2, partitions(c, "audit_events_p20310115", "audit_events_p20310116"));
        }
    }

    private static int ensurePartition(Connection c, String day) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT audit_ensure_partition(?::date)")) {
            ps.setString(1, day);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static boolean waitsOnAdvisoryLock(Connection observer, int pid) {
        try (PreparedStatement ps = observer.prepareStatement(
                "SELECT count(*) FROM pg_locks WHERE pid = ? AND locktype = 'advisory' AND NOT granted")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long partitions(Connection c, String... names) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM audit_partitions WHERE partition_name = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", names));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void updatesDeletesAndTruncatesAreRejected() throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl); Statement s = c.createStatement()) {
            assertAppendOnly(() -> s.executeUpdate("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"));
            assertAppendOnly(() -> s.executeUpdate("DELETE FROM audit_events WHERE seq = 3"));
            assertAppendOnly(() -> s.executeUpdate("TRUNCATE audit_events"));
            String partition;
            try (ResultSet rs = s.executeQuery("SELECT partition_name FROM audit_partitions LIMIT 1")) {
                rs.next();
                partition = rs.getString(1);
            }
            assertAppendOnly(() -> s.executeUpdate("TRUNCATE " + partition));
            assertAppendOnly(() -> s.executeUpdate("DELETE FROM " + partition));
            assertAppendOnly(() -> s.executeUpdate("TRUNCATE audit_anchor_heads"));
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeQuery("SELECT audit_drop_partitions_before(current_date)"));
            assertTrue(e.getMessage().contains("no retention anchor"), e.getMessage());
            assertEquals(ledger.size(), count(c, "true"));
        }
    }

    private static void assertAppendOnly(org.junit.jupiter.api.function.Executable change) {
        SQLException e = assertThrows(SQLException.class, change);
        assertTrue(e.getMessage().contains("append-only"), e.getMessage());
    }

    /**
     * The audit job's role (V002) through a login of its own, made the way {@code db migrate --audit-login} makes it:
     * it writes entries with the sink's statement and binder, creating the day partitions through
     * audit_ensure_partition, and reads them back; PostgreSQL's privileges refuse everything else (42501) before any
     * trigger runs, except an UPDATE of hash: the sink's fork check needs that privilege (V009), and the append-only
     * trigger rejects the update. Migrated by a superuser as in docker-compose.yml (its POSTGRES_USER is one), so V002 creates the
     * role and V007 takes CREATE on schema public away from PUBLIC, which PostgreSQL 14 still grants.
     */
    @Test
    void theAuditJobsLoginMayOnlyInsertAndSelect() throws Exception {
        String url = RealServices.freshDatabase("audit_writer_login");
        String admin = RealServices.postgres().map(p -> p.adminJdbcUrl(JdbcUrls.database(url))).orElse(url);
        Migrations.migrate(admin, line -> {});
        // Roles are cluster-wide and the server is shared: a name of this test's own, dropped at the end.
        String login = RealServices.uniqueName("horizons_audit_it");
        String password = RealServices.uniqueName("pw");
        try {
            try (Connection c = DriverManager.getConnection(admin)) {
                assertTrue(AuditWriterLogin.ensure(c, login, password.toCharArray()), "a new login");
                assertFalse(AuditWriterLogin.ensure(c, login, password.toCharArray()), "a second run updates it");
                assertEquals("true true false", query(c, "SELECT pg_has_role('" + login + "', '"
                        + AuditWriterLogin.WRITER_ROLE + "', 'MEMBER') || ' ' || (rolpassword LIKE 'SCRAM-SHA-256$%') "
                        + "|| ' ' || rolsuper FROM pg_authid WHERE rolname = '" + login + "'"),
                        "a member of the writer role, with a hashed password, no superuser");
                assertEquals("0", query(c, "SELECT count(*) FROM audit_partitions"), "no partition yet");
            }
            List<AuditRecord> entries = ledger.chains.values().stream().flatMap(List::stream).toList();
            String writerUrl = url.replaceFirst("\\?.*$", "") + "?user=" + login + "&password=" + password;
            try (Connection writer = DriverManager.getConnection(writerUrl); Statement s = writer.createStatement()) {
                assertEquals(login, query(writer, "SELECT current_user"));
                LedgerWriter.write(writer, entries, 50);
                LedgerWriter.write(writer, entries, 50); // a replay after a restore: skipped, not an error
                assertEquals(ledger.size(), count(writer, "true"), "it reads back what it wrote, once");
                assertEquals(ledger.chains.keySet(), LedgerHeads.jdbc(writerUrl).findAll().keySet(),
                        "the job's resume lookup works with these privileges");

                String partition = query(writer, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        + "WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname LIMIT 1");
                assertDenied(s, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3");
                // UPDATE of hash passes the privileges (the sink's fork check names it) and stops at the append-only
                // trigger: nothing is updated.
                SQLException update = assertThrows(SQLException.class,
                        () -> s.execute("UPDATE audit_events SET hash = prev_hash WHERE seq = 3"));
                assertEquals("23000", update.getSQLState(), update::getMessage);
                assertTrue(update.getMessage().contains("append-only"), update::getMessage);
                assertDenied(s, "DELETE FROM audit_events WHERE seq = 3");
                assertDenied(s, "TRUNCATE audit_events");
                assertDenied(s, "DELETE FROM " + partition);
                assertDenied(s, "TRUNCATE " + partition);
                assertDenied(s, "DROP TABLE " + partition);
                assertDenied(s, "ALTER TABLE audit_events DETACH PARTITION " + partition);
                assertDenied(s, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only");
                assertDenied(s, "SELECT audit_drop_partitions_before(current_date + 30)");
                assertDenied(s, "INSERT INTO audit_anchors (anchor_seq, kind, created_at, chain_count, merkle_root, "
                        + "prev_anchor_hash, anchor_hash, key_id, signature) "
                        + "VALUES (1, 'periodic', now(), 0, '\\x00', '\\x00', '\\x00', 'forged', '\\x00')");
                assertDenied(s, "CREATE TABLE audit_shadow (id int)");
                assertDenied(s, "CREATE TABLE public.audit_shadow (id int)");
                assertDenied(s, "CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql "
                        + "AS $$ BEGIN RETURN NULL; END $$");
                assertDenied(s, "CREATE SCHEMA audit_shadow");
                assertDenied(s, "SET session_replication_role = replica"); // what would switch the triggers off
            }
            try (Connection c = DriverManager.getConnection(admin)) {
                TreeSet<String> days = new TreeSet<>();
                entries.forEach(r -> days.add(LocalDate.ofInstant(r.getChainTime(), ZoneOffset.UTC).toString()));
                days.add(LocalDate.parse(days.last()).plusDays(1).toString());
                assertEquals(String.join(",", days), query(c, "SELECT string_agg(day::text, ',' ORDER BY day) FROM audit_partitions"),
                        "the login created the entries' day partitions (and the next day's) through the function");
                assertEquals(String.valueOf(ledger.size()), query(c, "SELECT count(*) FROM audit_events"), "nothing changed");
                assertEquals("true", query(c, "SELECT has_schema_privilege(pg_get_userbyid(datdba), 'public', 'CREATE')::text "
                        + "FROM pg_database WHERE datname = current_database()"),
                        "the database owner keeps CREATE on public, for later migrations");
            }
            LedgerVerifier.Report report = new LedgerVerifier(admin, ledger.verifyOptions()).verify();
            assertTrue(report.clean(), report::render);
        } finally {
            try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + login);
            }
        }
    }

    private static void assertDenied(Statement s, String sql) {
        SQLException e = assertThrows(SQLException.class, () -> s.execute(sql), sql);
        assertEquals("42501", e.getSQLState(), () -> sql + ": " + e.getMessage());
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return rs.getString(1);
        }
    }

    @Test
    void dayPartitionsAreCreatedAheadAsEntriesArrive() throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT day, (SELECT count(*) FROM audit_events e "
                        + "WHERE e.chain_time >= p.day AND e.chain_time < p.day + 1) FROM audit_partitions p ORDER BY day")) {
            List<String> days = new ArrayList<>();
            long rows = 0;
            while (rs.next()) {
                days.add(rs.getString(1));
                rows += rs.getLong(2);
            }
            assertEquals(ledger.size(), rows, "every entry sits in a day partition");
            java.util.TreeSet<String> entryDays = new java.util.TreeSet<>();
            ledger.chains.values().forEach(chain -> chain.forEach(r -> entryDays.add(
                    java.time.LocalDate.ofInstant(r.getChainTime(), java.time.ZoneOffset.UTC).toString())));
            entryDays.add(java.time.LocalDate.parse(entryDays.last()).plusDays(1).toString());
            assertEquals(List.copyOf(entryDays), days, "the entries' days and the day after the last");
        }
    }

    @Test
    void theSqlLevelCheckAgreesWithTheJavaHashing() throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl); Statement s = c.createStatement()) {
            // RFC 4231 test case 2 for the SQL HMAC.
            try (ResultSet rs = s.executeQuery("SELECT encode(audit_hmac_sha256(convert_to('Jefe', 'UTF8'), "
                    + "convert_to('what do ya want for nothing?', 'UTF8')), 'hex')")) {
                rs.next();
                assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", rs.getString(1));
            }
            AuditRecord r = entry("audit-trail/0", 2);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT audit_canonical(e) FROM audit_events e WHERE chain_id = ? AND seq = ?")) {
                ps.setString(1, r.getChainId());
                ps.setLong(2, r.getSeq());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(new String(AuditEntries.canonicalBytes(r), StandardCharsets.UTF_8),
                            new String(rs.getBytes(1), StandardCharsets.UTF_8));
                }
            }
            String key = HexFormat.of().formatHex(LedgerFixture.MAC_KEY.key());
            int chains = 0;
            try (ResultSet rs = s.executeQuery("SELECT chain_id, entries, first_broken_seq, problem "
                    + "FROM audit_verify(decode('" + key + "', 'hex'))")) {
                while (rs.next()) {
                    chains++;
                    assertEquals(ledger.chains.get(rs.getString(1)).size(), rs.getLong(2));
                    assertNull(rs.getObject(3), () -> "unexpected problem");
                }
            }
            assertEquals(ledger.chains.size(), chains);
        }
        assertTrue(ledger.verify().clean());
        Map<String, List<AuditRecord>> none = Map.of();
        assertTrue(none.isEmpty());
    }
}
