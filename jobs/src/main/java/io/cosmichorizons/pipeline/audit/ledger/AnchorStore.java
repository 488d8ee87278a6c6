package io.cosmichorizons.pipeline.audit.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and appends anchors ({@code audit_anchors} with their heads in {@code audit_anchor_heads}). */
public final class AnchorStore {
    private AnchorStore() {}

    /**
     * Every anchor, oldest first, with the heads stored for it (the verifier recomputes the Merkle root from these, so
     * a deleted or edited head breaks it).
     */
    public static List<Anchor> loadAll(Connection c) throws SQLException {
        Map<Long, List<Anchor.Head>> heads = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT anchor_seq, chain_id, head_seq, head_hash, head_chain_time, "
                        + "head_source_offset FROM audit_anchor_heads ORDER BY anchor_seq, chain_id")) {
            while (rs.next()) {
                heads.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new Anchor.Head(rs.getString(2),
                        rs.getLong(3), rs.getBytes(4), rs.getTimestamp(5).getTime(), rs.getLong(6)));
            }
        }
        List<Anchor> anchors = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT anchor_seq, kind, created_at, retention_cut, keep_days, "
                        + "merkle_root, prev_anchor_hash, anchor_hash, key_id, signature "
                        + "FROM audit_anchors ORDER BY anchor_seq")) {
            while (rs.next()) {
                long seq = rs.getLong(1);
                Timestamp cut = rs.getTimestamp(4);
                int keep = rs.getInt(5);
                Integer keepDays = rs.wasNull() ? null : keep;
                List<Anchor.Head> mine = heads.getOrDefault(seq, List.of());
                anchors.add(new Anchor(seq, rs.getString(2), rs.getTimestamp(3).toInstant(),
                        cut == null ? null : cut.toInstant(), keepDays, mine, rs.getBytes(6), rs.getBytes(7),
                        rs.getBytes(8), rs.getString(9), rs.getBytes(10)));
            }
        }
        return anchors;
    }

    /** The latest anchor, or null. */
    public static Anchor latest(Connection c) throws SQLException {
        List<Anchor> all = loadAll(c);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Appends an anchor and its heads in one transaction on {@code c}. */
    public static void insert(Connection c, Anchor a) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            insertInTransaction(c, a);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** Appends an anchor and its heads in the caller's transaction. */
    public static void insertInTransaction(Connection c, Anchor a) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_anchors (anchor_seq, kind, created_at, "
                + "retention_cut, keep_days, chain_count, merkle_root, prev_anchor_hash, anchor_hash, key_id, signature) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, a.seq());
            ps.setString(2, a.kind());
            ps.setTimestamp(3, Timestamp.from(a.createdAt()));
            ps.setTimestamp(4, a.retentionCut() == null ? null : Timestamp.from(a.retentionCut()));
            if (a.keepDays() == null) {
                ps.setNull(5, Types.INTEGER);
            } else {
                ps.setInt(5, a.keepDays());
            }
            ps.setInt(6, a.heads().size());
            ps.setBytes(7, a.merkleRoot());
            ps.setBytes(8, a.prevAnchorHash());
            ps.setBytes(9, a.anchorHash());
            ps.setString(10, a.keyId());
            ps.setBytes(11, a.signature());
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_anchor_heads (anchor_seq, chain_id, head_seq, "
                + "head_hash, head_chain_time, head_source_offset) VALUES (?, ?, ?, ?, ?, ?)")) {
            for (Anchor.Head h : a.heads()) {
                ps.setLong(1, a.seq());
                ps.setString(2, h.chainId());
                ps.setLong(3, h.seq());
                ps.setBytes(4, h.hash());
                ps.setTimestamp(5, new Timestamp(h.chainTime()));
                ps.setLong(6, h.sourceOffset());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
