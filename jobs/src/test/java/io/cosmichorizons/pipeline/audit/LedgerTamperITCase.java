package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.pipeline.audit.ledger.Anchor;
import io.cosmichorizons.pipeline.audit.ledger.AnchorKeys;
import io.cosmichorizons.pipeline.audit.ledger.AnchorStore;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.pipeline.audit.ledger.LedgerCrypto;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier.Kind;
import io.cosmichorizons.pipeline.audit.ledger.LedgerWriter;
import io.cosmichorizons.testbed.RealServices;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tamper matrix: each change made behind the ledger's back (as a superuser with the append-only triggers off) is
 * detected by the verifier and located at the right chain and seq (or anchor), and the untampered ledger verifies
 * clean. Every case gets its own populated and anchored database.
 */
@ExtendWith(RealServices.class)
class LedgerTamperITCase {
    private static final String CHAIN = "job-lifecycle/1";

    /** 4 chains of lifecycle steps + 4 of actions (48 jobs), then a signed anchor over all heads. */
    private static LedgerFixture anchoredLedger(String name) throws Exception {
        LedgerFixture ledger = LedgerFixture.create("audit_tamper_" + name)
                .addJobs("tamper", 48, 4, Instant.now().minus(2, ChronoUnit.DAYS), 600);
        var outcome = LedgerAnchoring.anchor(ledger.jdbcUrl, LedgerFixture.SIGNER, ledger.verifyOptions(), Clock.systemUTC());
        assertTrue(outcome.anchored(), () -> outcome.verification().render());
        return ledger;
    }

    /** Verifies, and checks that exactly {@code chain} is broken with {@code kind} first, at {@code seq}. */
    private static LedgerVerifier.Report assertLocated(LedgerFixture ledger, String chain, Kind kind, long seq)
            throws Exception {
        LedgerVerifier.Report report = ledger.verify();
        assertFalse(report.clean(), "tampering went unnoticed");
        List<LedgerVerifier.ChainResult> broken = report.brokenChains();
        assertEquals(List.of(chain), broken.stream().map(LedgerVerifier.ChainResult::chainId).toList(), report::render);
        LedgerVerifier.Problem first = broken.get(0).problems().get(0);
        assertEquals(kind, first.kind(), report::render);
        assertEquals(seq, first.seq(), report::render);
        assertTrue(report.render().contains("chain " + chain + ": BROKEN - first at chain " + chain + " seq " + seq),
                report::render);
        return report;
    }

    private static void execute(LedgerFixture ledger, String sql) throws SQLException {
        try (Connection c = ledger.superuser(); Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    /** Rewrites entries from {@code from} on with correct links and hashes, as someone without the MAC key can. */
    private static void rewriteHashes(Connection c, List<AuditRecord> entries, int from) throws SQLException {
        LedgerCrypto crypto = new LedgerCrypto();
        byte[] prev = AuditEntries.bytes(entries.get(from - 1).getHash());
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE audit_events SET payload = ?, prev_hash = ?, hash = ? WHERE chain_id = ? AND seq = ?")) {
            for (AuditRecord r : entries.subList(from, entries.size())) {
                byte[] hash = crypto.sha256(prev, AuditEntries.canonicalBytes(r));
                ps.setString(1, r.getPayload());
                ps.setBytes(2, prev);
                ps.setBytes(3, hash);
                ps.setString(4, r.getChainId());
                ps.setLong(5, r.getSeq());
                assertEquals(1, ps.executeUpdate());
                prev = hash;
            }
        }
    }

    @Test
    void theUntamperedLedgerVerifiesClean() throws Exception {
        LedgerFixture ledger = anchoredLedger("clean");
        LedgerVerifier.Report report = ledger.verify();
        assertTrue(report.clean(), report::render);
        assertEquals(ledger.size(), report.entries());
        assertEquals(8, report.chains().size());
        assertTrue(report.render().startsWith("Audit ledger verification: CLEAN"), report::render);
    }

    /**
     * The sink's subtasks insert concurrently, and PostgreSQL can then place a chain's later entries in earlier pages
     * (seen in the benchmark: every chain of a pipeline-written ledger fell back to the ordered path). Written here with
     * each chain's second half ahead of its first, the untampered ledger still verifies clean in one pass.
     */
    @Test
    void aLedgerWhoseEntriesLieOutOfSeqOrderOnDiskVerifiesCleanInOnePass() throws Exception {
        LedgerFixture written = LedgerFixture.create("audit_tamper_scattered_source")
                .addJobs("scattered", 48, 4, Instant.now().minus(2, ChronoUnit.DAYS), 600);
        List<AuditRecord> disorder = new ArrayList<>();
        for (List<AuditRecord> chain : written.chains.values()) {
            disorder.addAll(chain.subList(chain.size() / 2, chain.size()));
            disorder.addAll(chain.subList(0, chain.size() / 2));
        }
        LedgerFixture scattered = LedgerFixture.create("audit_tamper_scattered");
        try (Connection c = java.sql.DriverManager.getConnection(scattered.jdbcUrl)) {
            LedgerWriter.write(c, disorder, 500);
        }
        LedgerVerifier.Report report = scattered.verify();
        assertTrue(report.clean(), report::render);
        assertEquals(written.size(), report.entries());
        assertTrue(report.render().contains("8 chain(s) verified in one physical-order pass, 0 re-read in seq order"),
                report::render);
    }

    @Test
    void anUpdatedPayload() throws Exception {
        LedgerFixture ledger = anchoredLedger("payload");
        execute(ledger, "UPDATE audit_events SET payload = replace(payload, 'setonix', 'gadi') "
                + "WHERE chain_id = '" + CHAIN + "' AND seq = 20");
        assertLocated(ledger, CHAIN, Kind.HASH_MISMATCH, 20);
    }

    @Test
    void anUpdatedHashWithTheChainRecomputedWithoutTheKey() throws Exception {
        LedgerFixture ledger = anchoredLedger("rehash");
        List<AuditRecord> chain = new ArrayList<>(ledger.chains.get(CHAIN));
        AuditRecord original = chain.get(20);
        chain.set(20, AuditRecord.newBuilder(original).setPayload(original.getPayload().replace("setonix", "gadi")).build());
        try (Connection c = ledger.superuser()) {
            rewriteHashes(c, chain, 20);
        }
        LedgerVerifier.Report report = assertLocated(ledger, CHAIN, Kind.MAC_MISMATCH, 20);
        // Links and hashes are consistent again: only the MACs (and the anchored head) give it away.
        assertTrue(report.brokenChains().get(0).problems().stream()
                .noneMatch(p -> p.kind() == Kind.HASH_MISMATCH || p.kind() == Kind.BROKEN_LINK), report::render);
        assertTrue(report.brokenChains().get(0).problems().stream().anyMatch(p -> p.kind() == Kind.ANCHOR_HEAD_MISMATCH));
    }

    @Test
    void aDeletedMiddleRow() throws Exception {
        LedgerFixture ledger = anchoredLedger("middle");
        execute(ledger, "DELETE FROM audit_events WHERE chain_id = '" + CHAIN + "' AND seq = 25");
        LedgerVerifier.Report report = assertLocated(ledger, CHAIN, Kind.SEQUENCE_GAP, 25);
        assertTrue(report.render().contains("seq 25 is missing"), report::render);
    }

    @Test
    void aDeletedTailIsCaughtByTheAnchor() throws Exception {
        LedgerFixture ledger = anchoredLedger("tail");
        int size = ledger.chains.get(CHAIN).size();
        execute(ledger, "DELETE FROM audit_events WHERE chain_id = '" + CHAIN + "' AND seq >= " + (size - 3));
        LedgerVerifier.Report report = assertLocated(ledger, CHAIN, Kind.TRUNCATED, size - 3);
        assertEquals(1L, report.brokenChains().get(0).problemCount(), "the rest of the chain is intact");
    }

    @Test
    void anInsertedRow() throws Exception {
        LedgerFixture ledger = anchoredLedger("insert");
        List<AuditRecord> chain = ledger.chains.get(CHAIN);
        int at = 30;
        AuditRecord template = chain.get(at);
        // Make room: shift seq 30.. up by one (via a large offset, since (chain, seq, chain_time) is unique).
        execute(ledger, "UPDATE audit_events SET seq = seq + 1000001 WHERE chain_id = '" + CHAIN + "' AND seq >= " + at);
        execute(ledger, "UPDATE audit_events SET seq = seq - 1000000 WHERE chain_id = '" + CHAIN + "' AND seq >= 1000000");
        List<AuditRecord> forged = new ArrayList<>(chain.subList(0, at));
        AuditRecord inserted = AuditRecord.newBuilder(template)
                .setEventId("00000000-0000-0000-0000-00000000f0f0")
                .setEventType("CANCELLED")
                .setPayload(template.getPayload().replace(template.getEventId(), "00000000-0000-0000-0000-00000000f0f0"))
                .setMac(ByteBuffer.wrap(new LedgerCrypto().sha256("no key".getBytes(StandardCharsets.UTF_8))))
                .build();
        forged.add(inserted);
        for (AuditRecord r : chain.subList(at, chain.size())) {
            forged.add(AuditRecord.newBuilder(r).setSeq(r.getSeq() + 1).build());
        }
        try (Connection c = ledger.superuser()) {
            LedgerWriter.write(c, List.of(AuditRecord.newBuilder(inserted)
                    .setHash(ByteBuffer.wrap(new LedgerCrypto().sha256(AuditEntries.bytes(chain.get(at - 1).getHash()),
                            AuditEntries.canonicalBytes(inserted))))
                    .setPrevHash(chain.get(at - 1).getHash()).build()), 10);
            rewriteHashes(c, forged, at);
        }
        assertLocated(ledger, CHAIN, Kind.MAC_MISMATCH, at);
    }

    @Test
    void twoSwappedRows() throws Exception {
        LedgerFixture ledger = anchoredLedger("swap");
        execute(ledger, "UPDATE audit_events SET seq = CASE seq WHEN 10 THEN 1000011 ELSE 1000010 END "
                + "WHERE chain_id = '" + CHAIN + "' AND seq IN (10, 11)");
        execute(ledger, "UPDATE audit_events SET seq = seq - 1000000 WHERE chain_id = '" + CHAIN + "' AND seq >= 1000000");
        assertLocated(ledger, CHAIN, Kind.BROKEN_LINK, 10);
    }

    @Test
    void aDroppedWholeChainIsCaughtByTheAnchor() throws Exception {
        LedgerFixture ledger = anchoredLedger("dropchain");
        execute(ledger, "DELETE FROM audit_events WHERE chain_id = 'audit-trail/3'");
        LedgerVerifier.Report report = assertLocated(ledger, "audit-trail/3", Kind.CHAIN_MISSING, 0);
        assertTrue(report.render().contains("anchor #1"), report::render);
    }

    @Test
    void aForgedAnchor() throws Exception {
        LedgerFixture ledger = anchoredLedger("anchor");
        // Someone with database access but without the signing key appends an anchor that vouches for a forged head,
        // claiming the real key's id.
        var attacker = AnchorKeys.generate();
        AnchorKeys.Signer forger = new AnchorKeys.Signer(attacker.getPrivate(), attacker.getPublic(),
                LedgerFixture.SIGNER.keyId());
        try (Connection c = ledger.superuser()) {
            Anchor real = AnchorStore.latest(c);
            List<Anchor.Head> heads = new ArrayList<>(real.heads());
            Anchor.Head h = heads.get(0);
            heads.set(0, new Anchor.Head(h.chainId(), h.seq(), new LedgerCrypto().sha256(h.hash()), h.chainTime(),
                    h.sourceOffset()));
            AnchorStore.insert(c, Anchor.sign(real, Anchor.PERIODIC, Instant.now(), null, null, heads, forger));
        }
        LedgerVerifier.Report report = ledger.verify();
        assertFalse(report.clean());
        LedgerVerifier.Problem first = report.anchorProblems().get(0);
        assertEquals(Kind.ANCHOR_SIGNATURE_INVALID, first.kind(), report::render);
        assertEquals(2L, first.anchorSeq());
        assertTrue(report.render().contains("anchor #2: ANCHOR_SIGNATURE_INVALID"), report::render);
        assertNull(report.chains().stream().filter(c -> !c.clean() && c.problems().stream()
                .anyMatch(p -> p.kind() != Kind.ANCHOR_HEAD_MISMATCH)).findAny().orElse(null), report::render);
    }
}
