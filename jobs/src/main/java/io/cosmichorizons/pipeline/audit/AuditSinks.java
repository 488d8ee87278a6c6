package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.pipeline.audit.ledger.LedgerWriter;
import io.cosmichorizons.pipeline.io.CloseTolerantJdbcSink;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.Jdbc;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;

/**
 * The audit job's outputs; tests swap any of them.
 *
 * <p>The ledger sink is flink-connector-jdbc at-least-once: entries are deterministic under replay, and the table's
 * insert trigger turns a repeated identical entry into a no-op and a different entry for the same (chain, seq) into
 * an error (a fork fails the job loudly instead of being written). See {@link LedgerWriter}.
 */
public record AuditSinks(Sink<AuditRecord> ledger, Sink<DeadLetter> deadLetters) {

    /** Transactional id prefix of the audit job's dead-letter sink (its own, distinct from the lifecycle job's). */
    public static final String DEAD_LETTER_TRANSACTIONAL_ID = "horizons-audit-dlq";

    public static AuditSinks production(AuditJobConfig config) {
        var common = config.common();
        Sink<AuditRecord> ledger = CloseTolerantJdbcSink.of(JdbcSink.<AuditRecord>builder()
                .withQueryStatement(LedgerWriter.INSERT, new LedgerWriter.Binder())
                .withExecutionOptions(Jdbc.batching(common))
                .buildAtLeastOnce(Jdbc.connection(common)));
        return new AuditSinks(ledger, DeadLetterRouting.sink(common, DEAD_LETTER_TRANSACTIONAL_ID));
    }
}
