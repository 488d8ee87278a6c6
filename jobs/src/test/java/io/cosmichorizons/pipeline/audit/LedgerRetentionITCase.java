package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.pipeline.audit.ledger.Anchor;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.pipeline.audit.ledger.LedgerRetention;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.testbed.RealServices;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Retention on a ledger spanning 120 days: after a 90-day cut the remaining entries still verify (linked to the
 * signed retention anchor's heads), and removing an entry inside the window is detected.
 */
@ExtendWith(RealServices.class)
class LedgerRetentionITCase {

    @Test
    void verificationPassesAfterRetentionAndFailsWhenAnEntryInsideTheWindowIsRemoved() throws Exception {
        Instant now = Instant.now();
        // 12 jobs a day apart from 100 days ago (before a 90-day cut), then 30 jobs over the last 10 days.
        LedgerFixture ledger = LedgerFixture.create("audit_retention")
                .addJobs("old", 12, 3, now.minus(Duration.ofDays(100)), Duration.ofDays(1).toSeconds())
                .addJobs("new", 30, 3, now.minus(Duration.ofDays(10)), Duration.ofHours(8).toSeconds());
        assertTrue(LedgerAnchoring.anchor(ledger.jdbcUrl, LedgerFixture.SIGNER, ledger.verifyOptions(),
                Clock.systemUTC()).anchored());
        Instant cut = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(90).atStartOfDay(ZoneOffset.UTC).toInstant();
        long before = ledger.chains.values().stream().flatMap(List::stream)
                .filter(r -> r.getChainTime().isBefore(cut)).count();
        assertTrue(before > 0 && before < ledger.size(), "entries on both sides of the cut");

        LedgerRetention.Outcome dry = LedgerRetention.run(ledger.jdbcUrl, 90, true, LedgerFixture.SIGNER,
                ledger.verifyOptions(), Clock.systemUTC());
        assertEquals(before, dry.plan().entries());
        assertTrue(dry.dropped().isEmpty());
        assertEquals(ledger.size(), countEntries(ledger), "a dry run changes nothing");

        LedgerRetention.Outcome outcome = LedgerRetention.run(ledger.jdbcUrl, 90, false, LedgerFixture.SIGNER,
                ledger.verifyOptions(), Clock.systemUTC());
        assertFalse(outcome.refused(), () -> outcome.verification().render());
        assertFalse(outcome.dropped().isEmpty());
        assertEquals(ledger.size() - before, countEntries(ledger), "exactly the entries before the cut are gone");
        Anchor retention = outcome.anchor();
        assertEquals(Anchor.RETENTION, retention.kind());
        assertEquals(cut, retention.retentionCut());
        assertEquals(90, retention.keepDays());
        // The anchor holds each chain's last removed entry: the remaining chain must continue from exactly there.
        for (Anchor.Head head : retention.heads()) {
            List<AuditRecord> chain = ledger.chains.get(head.chainId());
            AuditRecord lastRemoved = chain.stream().filter(r -> r.getChainTime().isBefore(cut))
                    .reduce((a, b) -> b).orElseThrow();
            assertEquals(lastRemoved.getSeq(), head.seq());
            assertTrue(Arrays.equals(AuditEntries.bytes(lastRemoved.getHash()), head.hash()));
        }

        LedgerVerifier.Report after = ledger.verify();
        assertTrue(after.clean(), after::render);
        assertEquals(ledger.size() - before, after.entries());
        assertSqlCheckClean(ledger);
        // Anchoring goes on after the cut.
        assertTrue(LedgerAnchoring.anchor(ledger.jdbcUrl, LedgerFixture.SIGNER, ledger.verifyOptions(),
                Clock.systemUTC()).anchored());

        // Remove the first entry after the cut in one chain and a middle one in another: both are caught.
        Anchor.Head cutHead = retention.heads().get(0);
        String otherChain = retention.heads().get(1).chainId();
        long middle = ledger.chains.get(otherChain).size() - 5;
        try (Connection c = ledger.superuser(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM audit_events WHERE chain_id = '" + cutHead.chainId() + "' AND seq = " + (cutHead.seq() + 1));
            s.executeUpdate("DELETE FROM audit_events WHERE chain_id = '" + otherChain + "' AND seq = " + middle);
        }
        LedgerVerifier.Report tampered = ledger.verify();
        assertFalse(tampered.clean());
        Map<String, Long> firstBroken = new java.util.TreeMap<>();
        tampered.brokenChains().forEach(c -> firstBroken.put(c.chainId(), c.firstBrokenSeq()));
        assertEquals(Map.of(cutHead.chainId(), cutHead.seq() + 1, otherChain, middle), firstBroken, tampered::render);
        tampered.brokenChains().forEach(c -> assertEquals(LedgerVerifier.Kind.SEQUENCE_GAP, c.problems().get(0).kind()));
    }

    private static long countEntries(LedgerFixture ledger) throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void assertSqlCheckClean(LedgerFixture ledger) throws Exception {
        try (Connection c = DriverManager.getConnection(ledger.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT chain_id, first_broken_seq, problem FROM audit_verify()")) {
            int chains = 0;
            while (rs.next()) {
                chains++;
                assertNull(rs.getObject(2), rs.getString(1) + ": " + rs.getString(3));
            }
            assertTrue(chains > 0);
        }
    }
}
