package io.cosmichorizons.pipeline.audit.ledger;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code audit retention --keep 90d}: removes whole day partitions older than the policy, after recording a signed
 * retention anchor with each chain's head at the cut (its last removed entry).
 *
 * <p>Partitions are by {@code chain_time}, which never decreases along a chain, so the entries before the cut are a
 * prefix of every chain: after the cut a chain continues at the anchored head's seq + 1 with prev_hash = the anchored
 * head's hash, and the verifier checks exactly that. The whole ledger is verified first; a ledger with any problem is
 * not cut (the evidence would be destroyed).
 */
public final class LedgerRetention {
    private LedgerRetention() {}

    /** What a cut removes. */
    public record Plan(int keepDays, LocalDate cutDay, Instant cut, List<String> partitions, long entries,
            List<Anchor.Head> cutHeads) {}

    /**
     * What happened: the plan, the verification (null when there was nothing to remove), the retention anchor and the
     * dropped partitions (empty for a dry run or a refusal).
     */
    public record Outcome(Plan plan, LedgerVerifier.Report verification, Anchor anchor, List<String> dropped,
            boolean dryRun) {
        public boolean refused() {
            return verification != null && !verification.clean();
        }
    }

    public static Outcome run(String jdbcUrl, int keepDays, boolean dryRun, AnchorKeys.Signer signer,
            LedgerVerifier.Options verifyOptions, Clock clock) throws SQLException, InterruptedException {
        if (keepDays < 1) {
            throw new IllegalArgumentException("--keep must be at least 1 day");
        }
        Instant now = clock.instant();
        LocalDate cutDay = LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(keepDays);
        Instant cut = cutDay.atStartOfDay(ZoneOffset.UTC).toInstant();
        Plan plan;
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            plan = plan(c, keepDays, cutDay, cut);
        }
        if (plan.partitions().isEmpty()) {
            return new Outcome(plan, null, null, List.of(), dryRun);
        }
        LedgerVerifier.Options options = signer == null ? verifyOptions
                : LedgerAnchoring.withSignerTrusted(verifyOptions, signer);
        LedgerVerifier.Report report = new LedgerVerifier(jdbcUrl, options).verify();
        if (!report.clean() || dryRun) {
            return new Outcome(plan, report, null, List.of(), dryRun);
        }
        if (signer == null) {
            throw new IllegalArgumentException("Retention needs the anchor signing key (--signing-key)");
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            c.setAutoCommit(false);
            try {
                try (Statement s = c.createStatement()) {
                    // No entry may arrive while the heads at the cut are taken and the partitions dropped.
                    s.execute("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE");
                }
                Plan locked = plan(c, keepDays, cutDay, cut);
                Anchor previous = AnchorStore.latest(c);
                Anchor anchor = Anchor.sign(previous, Anchor.RETENTION, now, cut, keepDays, locked.cutHeads(), signer);
                AnchorStore.insertInTransaction(c, anchor);
                List<String> dropped = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT audit_drop_partitions_before(?)")) {
                    ps.setObject(1, cutDay);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            dropped.add(rs.getString(1));
                        }
                    }
                }
                c.commit();
                return new Outcome(locked, report, anchor, dropped, false);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** The partitions before the cut, how many entries they hold, and the heads at the cut. */
    static Plan plan(Connection c, int keepDays, LocalDate cutDay, Instant cut) throws SQLException {
        List<String> partitions = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT partition_name FROM audit_partitions WHERE day < ? ORDER BY day")) {
            ps.setObject(1, cutDay);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    partitions.add(rs.getString(1));
                }
            }
        }
        // Chains cut earlier keep their earlier cut head unless this cut moves it.
        Map<String, Anchor.Head> heads = new HashMap<>();
        for (Anchor a : AnchorStore.loadAll(c)) {
            if (a.isRetention()) {
                heads.clear();
                a.heads().forEach(h -> heads.put(h.chainId(), h));
            }
        }
        long entries = 0;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT DISTINCT ON (chain_id) chain_id, seq, hash, chain_time, source_offset,
                    count(*) OVER (PARTITION BY chain_id) AS removed
                FROM audit_events WHERE chain_time < ? ORDER BY chain_id, seq DESC""")) {
            ps.setTimestamp(1, Timestamp.from(cut));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    heads.put(rs.getString(1), new Anchor.Head(rs.getString(1), rs.getLong(2), rs.getBytes(3),
                            rs.getTimestamp(4).getTime(), rs.getLong(5)));
                    entries += rs.getLong(6);
                }
            }
        }
        return new Plan(keepDays, cutDay, cut, partitions, entries, List.copyOf(heads.values()));
    }
}
