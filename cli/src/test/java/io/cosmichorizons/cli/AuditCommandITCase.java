package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.audit.ledger.VerifyBenchmark;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.testbed.RealServices;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code horizons audit ...} end to end against a real PostgreSQL: the exit codes and what an operator reads. */
@ExtendWith(RealServices.class)
class AuditCommandITCase {
    private static final MacKey KEY = MacKey.of("cli-key", Base64.getEncoder().encodeToString(
            "a MAC key for the CLI test, 32 b".getBytes(StandardCharsets.UTF_8)));

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = Horizons.commandLine().execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    private static String[] with(String[] base, String... more) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** A fresh database with a ledger of {@code entries} over 6 chains, and an anchor signing key pair in {@code dir}. */
    private record Ledger(String url, Path signingKey, String macKey, String[] db) {
        static Ledger create(String name, int entries, Path dir) throws Exception {
            String url = RealServices.freshDatabase(name);
            Migrations.migrate(url, line -> {});
            VerifyBenchmark.load(url, entries, 6, KEY, line -> {});
            Path signingKey = dir.resolve("anchor.key");
            Run keygen = run("audit", "keygen", "--out", signingKey.toString());
            assertEquals(0, keygen.exit());
            assertTrue(Files.exists(signingKey) && Files.exists(dir.resolve("anchor.key.pub")), keygen.out());
            String macKey = KEY.id() + "=" + Base64.getEncoder().encodeToString(KEY.key());
            return new Ledger(url, signingKey, macKey, new String[] {"--jdbc-url", url, "--mac-key", macKey});
        }

        /** {@link #db} plus the anchor public key, so verifications also check the anchors' signatures. */
        String[] trusted() {
            return with(db, "--anchor-key", signingKey.resolveSibling(signingKey.getFileName() + ".pub").toString());
        }
    }

    @Test
    void anchorVerifyQueryReportRetentionAndBench(@TempDir Path dir) throws Exception {
        Ledger ledger = Ledger.create("audit_cli", 3_000, dir);
        String url = ledger.url();
        Path signingKey = ledger.signingKey();
        String[] db = ledger.db();

        Run anchor = run(with(new String[] {"audit", "anchor", "--signing-key", signingKey.toString()}, db));
        assertEquals(0, anchor.exit(), anchor.out());
        assertTrue(anchor.out().contains("anchor #1: 6 chains, 3,000 new entries verified"), anchor.out());

        String[] trusted = ledger.trusted();
        Run verify = run(with(new String[] {"audit", "verify"}, trusted));
        assertEquals(0, verify.exit(), verify.out());
        assertTrue(verify.out().startsWith("Audit ledger verification: CLEAN"), verify.out());
        assertTrue(verify.out().contains("3,000 entries in 6 chains, 1 anchors"), verify.out());

        Run untrusted = run(with(new String[] {"audit", "verify"}, db));
        assertEquals(1, untrusted.exit(), "anchors cannot be checked without a trusted key: " + untrusted.out());
        assertTrue(untrusted.out().contains("ANCHOR_NOT_VERIFIABLE"), untrusted.out());

        Run query = run(with(new String[] {"audit", "query", "--job", "job-3"}, trusted));
        assertEquals(0, query.exit(), query.out());
        assertTrue(query.out().contains("VERIFIED, ANCHORED") && query.out().contains("4 entries, 4 verified"), query.out());

        Path report = dir.resolve("report.md");
        Run md = run(with(new String[] {"audit", "report", "--format", "md", "--from", "7d", "--no-dead-letters",
                "--output", report.toString()}, trusted));
        assertEquals(0, md.exit(), md.out());
        String text = Files.readString(report);
        assertTrue(text.contains("# Audit compliance report") && text.contains("| QUEUED | 1500 |")
                && text.contains("| dataset.download | 1500 |"), text);

        Run dryRun = run(with(new String[] {"audit", "retention", "--keep", "1d", "--dry-run"}, trusted));
        assertEquals(0, dryRun.exit(), dryRun.out());
        assertTrue(dryRun.out().contains("Dry run: the ledger verifies; nothing was changed."), dryRun.out());

        // A change behind the ledger's back (to the anchored head of one chain): verify exits 1 and says where, and
        // the next anchor refuses to vouch for it.
        String admin = RealServices.postgres().map(p -> p.adminJdbcUrl(JdbcUrls.database(url))).orElse(url);
        try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = replica");
            s.executeUpdate("UPDATE audit_events SET actor = 'mallory' WHERE chain_id = 'audit-trail/1' AND seq = 499");
        }
        Run broken = run(with(new String[] {"audit", "verify"}, trusted));
        assertEquals(1, broken.exit(), broken.out());
        assertTrue(broken.out().contains("chain audit-trail/1: BROKEN - first at chain audit-trail/1 seq 499: HASH_MISMATCH"),
                broken.out());
        Run refused = run(with(new String[] {"audit", "anchor", "--signing-key", signingKey.toString()}, db));
        assertEquals(1, refused.exit(), "no anchor over a tampered ledger: " + refused.out());
        assertTrue(refused.out().contains("ANCHOR_HEAD_MISMATCH") && refused.out().contains("Not anchored"), refused.out());

        Run bench = run("audit", "bench-verify", "--rows", "2000", "--repeat", "1", "--jdbc-url", RealServices.jdbcUrl());
        assertEquals(0, bench.exit(), bench.out());
        assertTrue(bench.out().contains("RESULT verified 2,000 entries: median"), bench.out());
    }

    /**
     * The filters and the trail queries on a ledger of their own (it gets tampered with): verify --job and --since,
     * query --user and --correlation, and a trail entry shown as NOT VERIFIED after a change behind the ledger's back.
     */
    @Test
    void verifyByJobAndSinceAndQueryByUserAndCorrelation(@TempDir Path dir) throws Exception {
        Ledger ledger = Ledger.create("audit_cli_filters", 3_000, dir);
        String url = ledger.url();
        Path signingKey = ledger.signingKey();
        String[] db = ledger.db();
        String[] trusted = ledger.trusted();
        Run anchor = run(with(new String[] {"audit", "anchor", "--signing-key", signingKey.toString()}, db));
        assertEquals(0, anchor.exit(), anchor.out());
        Instant afterTheAnchor = Instant.now();

        // Every job has lifecycle steps on the three job-lifecycle chains (and none on the audit-trail ones).
        Run byJob = run(with(new String[] {"audit", "verify", "--job", "job-3"}, trusted));
        assertEquals(0, byJob.exit(), byJob.out());
        assertTrue(byJob.out().startsWith("Audit ledger verification: CLEAN")
                && byJob.out().contains("scope: chains holding job job-3")
                && byJob.out().contains("1,500 entries in 3 chains"), byJob.out());

        String user = one(url, "SELECT actor FROM audit_events GROUP BY actor ORDER BY count(*) DESC, actor LIMIT 1");
        long userEntries = Long.parseLong(one(url, "SELECT count(*) FROM audit_events WHERE actor = '" + user + "'"));
        Run byUser = run(with(new String[] {"audit", "query", "--user", user}, trusted));
        assertEquals(0, byUser.exit(), byUser.out());
        assertTrue(byUser.out().contains(userEntries + " entries, " + userEntries + " verified, 0 not verified"), byUser.out());
        assertEquals(userEntries, byUser.out().lines().filter(l -> l.contains(" " + user + " ")).count(),
                "one line per entry of the user: " + byUser.out());

        String tamperedCorrelation = correlationOf(url, "audit-trail/1", 100);
        String laterCorrelation = correlationOf(url, "audit-trail/1", 200);
        Run byCorrelation = run(with(new String[] {"audit", "query", "--correlation", laterCorrelation}, trusted));
        assertEquals(0, byCorrelation.exit(), byCorrelation.out());
        assertTrue(byCorrelation.out().contains("audit-trail/1") && byCorrelation.out().contains("VERIFIED, ANCHORED")
                && byCorrelation.out().contains("1 entries, 1 verified, 0 not verified"), byCorrelation.out());

        // A change behind the ledger's back in the middle of an anchored chain.
        String admin = RealServices.postgres().map(p -> p.adminJdbcUrl(JdbcUrls.database(url))).orElse(url);
        try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = replica");
            assertEquals(1, s.executeUpdate("UPDATE audit_events SET payload = payload || ' ' "
                    + "WHERE chain_id = 'audit-trail/1' AND seq = 100"));
        }
        String located = "chain audit-trail/1: BROKEN - first at chain audit-trail/1 seq 100: HASH_MISMATCH";
        Run full = run(with(new String[] {"audit", "verify"}, trusted));
        assertEquals(1, full.exit(), full.out());
        assertTrue(full.out().contains(located), full.out());

        Run jobAfter = run(with(new String[] {"audit", "verify", "--job", "job-3"}, trusted));
        assertEquals(0, jobAfter.exit(), "job-3's chains are untouched: " + jobAfter.out());

        // --since T checks what came after the last anchor made before T; that anchor vouches for everything before.
        Run sinceTheAnchor = run(with(new String[] {"audit", "verify", "--since", afterTheAnchor.toString()}, trusted));
        assertEquals(0, sinceTheAnchor.exit(), sinceTheAnchor.out());
        assertTrue(sinceTheAnchor.out().contains("scope: all chains, entries after the last anchor made before "
                + afterTheAnchor.toString().substring(0, 10)), sinceTheAnchor.out());
        Run sinceBeforeAnyAnchor = run(with(new String[] {"audit", "verify", "--since", "2000-01-01"}, trusted));
        assertEquals(1, sinceBeforeAnyAnchor.exit(), sinceBeforeAnyAnchor.out());
        assertTrue(sinceBeforeAnyAnchor.out().contains(located), sinceBeforeAnyAnchor.out());

        Run tamperedRow = run(with(new String[] {"audit", "query", "--correlation", tamperedCorrelation}, trusted));
        assertEquals(1, tamperedRow.exit(), tamperedRow.out());
        assertTrue(tamperedRow.out().contains("NOT VERIFIED (content does not match its hash)")
                && tamperedRow.out().contains("1 entries, 0 verified, 1 not verified"), tamperedRow.out());
        Run laterRow = run(with(new String[] {"audit", "query", "--correlation", laterCorrelation}, trusted));
        assertEquals(1, laterRow.exit(), laterRow.out());
        assertTrue(laterRow.out().contains("NOT VERIFIED (chain broken at seq 100: HASH_MISMATCH)"), laterRow.out());
    }

    @Test
    void anchorEveryAnchorsAtEachTickAndReportsFailedAttempts(@TempDir Path dir) throws Exception {
        Ledger ledger = Ledger.create("audit_cli_every", 600, dir);
        String url = ledger.url();
        Path signingKey = ledger.signingKey();
        String macKey = ledger.macKey();

        Run every = run("audit", "anchor", "--signing-key", signingKey.toString(), "--every", "10ms", "--count", "3",
                "--jdbc-url", url, "--mac-key", macKey);
        assertEquals(0, every.exit(), every.out() + every.err());
        assertEquals("1,2,3", one(url, "SELECT string_agg(anchor_seq::text, ',' ORDER BY anchor_seq) FROM audit_anchors"));
        assertTrue(every.out().contains("anchor #3: 6 chains"), every.out());

        // PostgreSQL not reachable (here: no such database): each attempt is reported and the next tick tries again.
        String missing = JdbcUrls.withDatabase(url, RealServices.uniqueName("audit_cli_missing"));
        Run failing = run("audit", "anchor", "--signing-key", signingKey.toString(), "--every", "10ms", "--count", "3",
                "--jdbc-url", missing, "--mac-key", macKey);
        assertEquals(1, failing.exit(), failing.out() + failing.err());
        assertEquals(3, failing.err().lines().filter(l -> l.contains("anchoring attempt")).count(), failing.err());
        assertTrue(failing.err().contains("anchoring attempt 3 failed") && failing.err().contains("does not exist"),
                failing.err());

        Run countWithoutEvery = run("audit", "anchor", "--signing-key", signingKey.toString(), "--count", "3",
                "--jdbc-url", url, "--mac-key", macKey);
        assertEquals(2, countWithoutEvery.exit(), "a usage error: " + countWithoutEvery.err());
        assertTrue(countWithoutEvery.err().contains("--count"), countWithoutEvery.err());
        assertEquals("3", one(url, "SELECT count(*) FROM audit_anchors"), "nothing anchored by a rejected command");
    }

    /** The --every loop itself: an attempt that throws is retried at the next tick; the stop latch ends the loop. */
    @Test
    void anAnchoringAttemptThatThrowsIsRetriedAtTheNextTick() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream logStream = new PrintStream(log, true, StandardCharsets.UTF_8);
        AtomicInteger attempts = new AtomicInteger();
        boolean allAnchored = AuditCommand.AnchorCmd.repeat(Duration.ofMillis(1), 3, new CountDownLatch(1), () -> {
            if (attempts.incrementAndGet() == 1) {
                throw new SQLException("Connection to localhost:5432 refused");
            }
            return true;
        }, logStream);
        assertEquals(3, attempts.get(), "the failure did not end the loop");
        assertFalse(allAnchored, "one attempt failed");
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("anchoring attempt 1 failed: java.sql.SQLException: Connection to localhost:5432 refused; "
                + "retrying in 0.001s"), text);
        assertEquals(1, text.lines().count(), text);

        CountDownLatch stop = new CountDownLatch(1);
        AtomicInteger untilStopped = new AtomicInteger();
        assertTrue(AuditCommand.AnchorCmd.repeat(Duration.ofMillis(1), null, stop, () -> {
            if (untilStopped.incrementAndGet() == 2) {
                stop.countDown(); // what the shutdown hook does on SIGTERM
            }
            return true;
        }, logStream));
        assertEquals(2, untilStopped.get(), "no attempt after the stop");
    }

    private static String correlationOf(String url, String chain, long seq) throws SQLException {
        return one(url, "SELECT correlation_id FROM audit_events WHERE chain_id = '" + chain + "' AND seq = " + seq);
    }

    private static String one(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return rs.getString(1);
        }
    }
}
