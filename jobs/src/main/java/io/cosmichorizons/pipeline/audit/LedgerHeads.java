package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.internal.AuditChainBaseline;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the chains stand in the ledger when a job lineage starts without state (a redeployment without a savepoint
 * against an existing ledger). The chainer reads this once, at the first start, and checkpoints it: every chain then
 * continues after its last entry, and the source records up to that entry's offset are skipped, instead of a second
 * seq 0 that the ledger would reject as a fork. It is never re-read on a restore, where the database may already hold
 * entries written after the checkpoint: that would make the outcome depend on timing.
 */
public interface LedgerHeads extends Serializable {

    /** The baseline of every chain the ledger knows, by chain id. */
    Map<String, AuditChainBaseline> findAll() throws Exception;

    /** No lookup: every chain starts at seq 0 (tests, and a ledger known to be empty). */
    static LedgerHeads none() {
        return Map::of;
    }

    /** Reads PostgreSQL: each chain's last entry, else the head its latest retention anchor recorded. */
    static LedgerHeads jdbc(String jdbcUrl) {
        return new Jdbc(jdbcUrl);
    }

    /** The PostgreSQL lookup. */
    final class Jdbc implements LedgerHeads {
        private static final long serialVersionUID = 1L;
        private static final String LAST_ENTRIES = """
                WITH RECURSIVE c(chain_id) AS (
                    SELECT min(chain_id) FROM audit_events
                    UNION ALL
                    SELECT (SELECT min(e.chain_id) FROM audit_events e WHERE e.chain_id > c.chain_id)
                    FROM c WHERE c.chain_id IS NOT NULL)
                SELECT l.chain_id, l.seq, l.hash, l.chain_time, l.source_offset
                FROM c CROSS JOIN LATERAL (
                    SELECT e.chain_id, e.seq, e.hash, e.chain_time, e.source_offset FROM audit_events e
                    WHERE e.chain_id = c.chain_id ORDER BY e.seq DESC LIMIT 1) l""";
        private static final String RETENTION_HEADS = """
                SELECT h.chain_id, h.head_seq, h.head_hash, h.head_chain_time, h.head_source_offset
                FROM audit_anchor_heads h
                WHERE h.anchor_seq = (SELECT max(anchor_seq) FROM audit_anchors WHERE kind = 'retention')""";

        private final String jdbcUrl;

        Jdbc(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        @Override
        public Map<String, AuditChainBaseline> findAll() throws SQLException {
            Map<String, AuditChainBaseline> heads = new HashMap<>();
            try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
                // Retention heads first: a chain's remaining entries, if any, come after its cut.
                for (String sql : new String[] {RETENTION_HEADS, LAST_ENTRIES}) {
                    try (ResultSet rs = s.executeQuery(sql)) {
                        while (rs.next()) {
                            heads.put(rs.getString(1), AuditChainBaseline.newBuilder()
                                    .setChainId(rs.getString(1))
                                    .setNextSeq(rs.getLong(2) + 1)
                                    .setPrevHash(ByteBuffer.wrap(rs.getBytes(3)))
                                    .setChainTime(rs.getTimestamp(4).getTime())
                                    .setResumeAfterOffset(rs.getLong(5))
                                    .build());
                        }
                    }
                }
            }
            return heads;
        }
    }
}
