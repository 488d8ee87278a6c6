package io.cosmichorizons.pipeline.audit.ledger;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code audit query --job ID | --user U | --correlation C}: one trail in event-time order, each entry marked as
 * verified or not. An entry is VERIFIED when its own hash and MAC check out and its chain verifies up to and including
 * it (so it is linked to the chain's start or retention cut); ANCHORED in addition when a signed anchor covers it.
 */
public final class AuditTrailQuery {
    private AuditTrailQuery() {}

    /** What to look up. */
    public enum By {
        JOB("job_id"), USER("actor"), CORRELATION("correlation_id");

        final String column;

        By(String column) {
            this.column = column;
        }
    }

    /** One entry of the trail and its status. */
    public record Row(Instant occurredAt, String chainId, long seq, String eventType, String actor, String jobId,
            String correlationId, String eventId, String status, String detail) {
        public boolean verified() {
            return status.startsWith("VERIFIED");
        }
    }

    /** The trail, and the verification of the chains it lies on. */
    public record Trail(List<Row> rows, LedgerVerifier.Report verification) {
        public String render() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%-24s %-22s %7s  %-18s %-14s %-20s %s%n", "occurred_at", "chain", "seq", "event",
                    "actor", "job", "status"));
            for (Row r : rows) {
                sb.append(String.format("%-24s %-22s %7d  %-18s %-14s %-20s %s%s%n", r.occurredAt(), r.chainId(), r.seq(),
                        r.eventType(), r.actor(), r.jobId() == null ? "-" : r.jobId(), r.status(),
                        r.detail() == null ? "" : " (" + r.detail() + ")"));
            }
            long verified = rows.stream().filter(Row::verified).count();
            sb.append(String.format("%d entries, %d verified, %d not verified%n", rows.size(), verified,
                    rows.size() - verified));
            return sb.toString();
        }
    }

    public static Trail run(String jdbcUrl, By by, String value, LedgerVerifier.Options options)
            throws SQLException, InterruptedException {
        List<Object[]> raw = new ArrayList<>();
        Set<String> chains = new LinkedHashSet<>();
        CanonicalRecord canonical = new CanonicalRecord();
        LedgerCrypto crypto = new LedgerCrypto();
        try (Connection c = DriverManager.getConnection(jdbcUrl);
                PreparedStatement ps = c.prepareStatement("SELECT chain_id, seq, chain_time, source_topic, source_offset, "
                        + "kafka_timestamp, event_id, event_type, job_id, actor, correlation_id, occurred_at, payload, "
                        + "prev_hash, hash, mac, key_id FROM audit_events WHERE " + by.column + " = ? "
                        + "ORDER BY occurred_at, chain_id, seq")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String chain = rs.getString(1);
                    chains.add(chain);
                    byte[] hash = rs.getBytes(15);
                    canonical.entry(chain.getBytes(StandardCharsets.UTF_8), rs.getLong(2), rs.getTimestamp(3).getTime(),
                            utf8(rs.getString(4)), rs.getLong(5), rs.getTimestamp(6).getTime(), utf8(rs.getString(7)),
                            utf8(rs.getString(8)), utf8(rs.getString(9)), utf8(rs.getString(10)), utf8(rs.getString(11)),
                            rs.getTimestamp(12).getTime(), utf8(rs.getString(13)));
                    String own = null;
                    if (!Arrays.equals(crypto.hash(rs.getBytes(14), canonical), hash)) {
                        own = "content does not match its hash";
                    } else if (options.checkMacs()) {
                        byte[] key = options.macKeys().get(rs.getString(17));
                        if (key == null) {
                            own = "unknown MAC key " + rs.getString(17);
                        } else if (!LedgerCrypto.same(crypto.mac(key, hash), rs.getBytes(16))) {
                            own = "MAC does not match";
                        }
                    }
                    raw.add(new Object[] {rs.getTimestamp(12).toInstant(), chain, rs.getLong(2), rs.getString(8),
                            rs.getString(10), rs.getString(9), rs.getString(11), rs.getString(7), own});
                }
            }
        }
        // Verify the chains the trail lies on: all of them at once when there are many.
        Map<String, LedgerVerifier.ChainResult> results = new HashMap<>();
        LedgerVerifier.Report report = null;
        if (!chains.isEmpty()) {
            if (chains.size() > 4) {
                report = new LedgerVerifier(jdbcUrl, options).verify();
                report.chains().forEach(r -> results.put(r.chainId(), r));
            } else {
                List<LedgerVerifier.ChainResult> all = new ArrayList<>();
                List<LedgerVerifier.Problem> anchorProblems = new ArrayList<>();
                for (String chain : chains) {
                    LedgerVerifier.Report one = new LedgerVerifier(jdbcUrl, options.withChain(chain)).verify();
                    one.chains().forEach(r -> results.put(r.chainId(), r));
                    all.addAll(one.chains());
                    anchorProblems = one.anchorProblems();
                }
                report = new LedgerVerifier.Report(all, anchorProblems, 0, all.stream().mapToLong(
                        LedgerVerifier.ChainResult::entries).sum(), java.time.Duration.ZERO, options.checkMacs(),
                        !options.anchorKeys().isEmpty(), "chains of the trail");
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Object[] r : raw) {
            String chain = (String) r[1];
            long seq = (Long) r[2];
            String own = (String) r[8];
            LedgerVerifier.ChainResult chainResult = results.get(chain);
            Long broken = chainResult == null ? null : chainResult.firstBrokenSeq();
            String status;
            String detail = null;
            if (own != null) {
                status = "NOT VERIFIED";
                detail = own;
            } else if (broken != null && broken <= seq) {
                status = "NOT VERIFIED";
                detail = "chain broken at seq " + broken + ": " + chainResult.problems().get(0).kind();
            } else if (report != null && !report.anchorProblems().isEmpty()) {
                status = "NOT VERIFIED";
                detail = "anchors do not verify";
            } else {
                boolean anchored = chainResult != null && chainResult.anchoredSeq() != null && chainResult.anchoredSeq() >= seq;
                status = anchored ? "VERIFIED, ANCHORED" : "VERIFIED";
            }
            rows.add(new Row((Instant) r[0], chain, seq, (String) r[3], (String) r[4], (String) r[5], (String) r[6],
                    (String) r[7], status, detail));
        }
        return new Trail(rows, report);
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
