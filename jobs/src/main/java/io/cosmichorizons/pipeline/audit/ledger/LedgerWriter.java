package io.cosmichorizons.pipeline.audit.ledger;

import io.cosmichorizons.events.AuditRecord;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.jdbc.JdbcStatementBuilder;

/**
 * How entries get into {@code audit_events}: the flink-connector-jdbc sink and the tools (tests, the benchmark) use
 * the same statement and the same parameter binding.
 *
 * <p>The statement inserts an entry. An entry identical to the stored one for its (chain, seq) is skipped (a replay
 * after a restore); a different one is a fork, and {@code audit_fork} fails the statement, and the job, loudly
 * (migration V009: the check used to be a per-row trigger, most of an insert's cost). Nothing is ever updated: the
 * SET expression raises, and the table's append-only trigger rejects any UPDATE. Before the first entry of a UTC day
 * the binder calls {@code audit_ensure_partition(day)}, so no insert fails for a missing day partition.
 */
public final class LedgerWriter {
    public static final String INSERT = """
            INSERT INTO audit_events (chain_id, seq, chain_time, event_id, event_type, source_topic, source_offset,
                job_id, actor, correlation_id, occurred_at, kafka_timestamp, payload, prev_hash, hash, mac, key_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (chain_id, seq, chain_time)
            DO UPDATE SET hash = audit_fork(audit_events.chain_id, audit_events.seq, audit_events.hash, EXCLUDED.hash)
            WHERE audit_events.hash IS DISTINCT FROM EXCLUDED.hash""";

    private LedgerWriter() {}

    /**
     * Binds an entry to {@link #INSERT}, first making sure its day partition exists. Serializable for the Flink sink;
     * the cache of known days is per instance and expires, so a partition dropped by retention is recreated if an entry
     * for that day ever arrives again.
     */
    public static final class Binder implements JdbcStatementBuilder<AuditRecord>, Serializable {
        private static final long serialVersionUID = 1L;
        private static final long RECHECK_MILLIS = 60_000;

        private transient Map<LocalDate, Long> ensuredAt;

        @Override
        public void accept(PreparedStatement ps, AuditRecord r) throws SQLException {
            ensurePartition(ps.getConnection(), r.getChainTime().toEpochMilli());
            bind(ps, r);
        }

        void ensurePartition(Connection c, long chainTime) throws SQLException {
            if (ensuredAt == null) {
                ensuredAt = new HashMap<>();
            }
            LocalDate day = LocalDate.ofInstant(java.time.Instant.ofEpochMilli(chainTime), ZoneOffset.UTC);
            long now = System.currentTimeMillis(); // only paces a cache; never part of any content
            Long last = ensuredAt.get(day);
            if (last == null || now - last > RECHECK_MILLIS) {
                LedgerWriter.ensurePartition(c, day);
                ensuredAt.put(day, now);
            }
        }
    }

    /** Creates the day partitions for {@code day} and the day after, when missing. */
    public static void ensurePartition(Connection c, LocalDate day) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT audit_ensure_partition(?)")) {
            p.setObject(1, day);
            p.execute();
        }
    }

    public static void bind(PreparedStatement ps, AuditRecord r) throws SQLException {
        ps.setString(1, r.getChainId());
        ps.setLong(2, r.getSeq());
        ps.setTimestamp(3, Timestamp.from(r.getChainTime()));
        ps.setString(4, r.getEventId());
        ps.setString(5, r.getEventType());
        ps.setString(6, r.getSourceTopic());
        ps.setLong(7, r.getSourceOffset());
        if (r.getJobId() == null) {
            ps.setNull(8, Types.VARCHAR);
        } else {
            ps.setString(8, r.getJobId());
        }
        ps.setString(9, r.getActor());
        ps.setString(10, r.getCorrelationId());
        ps.setTimestamp(11, Timestamp.from(r.getOccurredAt()));
        ps.setTimestamp(12, Timestamp.from(r.getKafkaTimestamp()));
        ps.setString(13, r.getPayload());
        ps.setBytes(14, AuditEntries.bytes(r.getPrevHash()));
        ps.setBytes(15, AuditEntries.bytes(r.getHash()));
        ps.setBytes(16, AuditEntries.bytes(r.getMac()));
        ps.setString(17, r.getKeyId());
    }

    /** Writes entries in batches on {@code c} (autocommit as configured by the caller): for tools and tests. */
    public static void write(Connection c, List<AuditRecord> records, int batchSize) throws SQLException {
        Binder binder = new Binder();
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            int n = 0;
            for (AuditRecord r : records) {
                binder.ensurePartition(c, r.getChainTime().toEpochMilli());
                bind(ps, r);
                ps.addBatch();
                if (++n % batchSize == 0) {
                    ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
    }
}
