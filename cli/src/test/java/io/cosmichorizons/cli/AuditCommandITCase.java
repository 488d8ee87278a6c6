package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code horizons audit ...} end to end against a real PostgreSQL: the exit codes and what an operator reads. */
@ExtendWith(RealServices.class)
class AuditCommandITCase {
    private static final MacKey KEY = MacKey.of("cli-key", Base64.getEncoder().encodeToString(
            "a MAC key for the CLI test, 32 b".getBytes(StandardCharsets.UTF_8)));

    private record Run(int exit, String out) {}

    private static Run run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int exit = Horizons.commandLine().execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    private static String[] with(String[] base, String... more) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void anchorVerifyQueryReportRetentionAndBench(@TempDir Path dir) throws Exception {
        String url = RealServices.freshDatabase("audit_cli");
        Migrations.migrate(url, line -> {});
        VerifyBenchmark.load(url, 3_000, 6, KEY, line -> {});
        Path signingKey = dir.resolve("anchor.key");
        String[] db = {"--jdbc-url", url, "--mac-key", KEY.id() + "=" + Base64.getEncoder().encodeToString(KEY.key())};

        Run keygen = run("audit", "keygen", "--out", signingKey.toString());
        assertEquals(0, keygen.exit());
        assertTrue(Files.exists(signingKey) && Files.exists(dir.resolve("anchor.key.pub")), keygen.out());

        Run anchor = run(with(new String[] {"audit", "anchor", "--signing-key", signingKey.toString()}, db));
        assertEquals(0, anchor.exit(), anchor.out());
        assertTrue(anchor.out().contains("anchor #1: 6 chains, 3,000 new entries verified"), anchor.out());

        String[] trusted = with(db, "--anchor-key", dir.resolve("anchor.key.pub").toString());
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
}
