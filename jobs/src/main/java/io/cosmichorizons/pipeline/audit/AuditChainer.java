package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.internal.AuditChainBaseline;
import io.cosmichorizons.events.internal.AuditChainState;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.serde.DeadLetters;
import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Appends each accepted event to its chain, keyed by chain id ({@code <topic>/<partition>}).
 *
 * <p>Why one chain per input partition: after a restore Flink replays each partition's records in exactly the same
 * order, but not the interleaving of different partitions. A chain fed by exactly one partition therefore gets the
 * same entries in the same order on every replay, so (chain, seq) always maps to byte-identical content and the
 * at-least-once JDBC sink can be an idempotent insert. Chains scale with the partition count and the parallelism.
 * Each partition is read by one source subtask and the records of one key travel one network channel, so a chain
 * sees its partition's order.
 *
 * <p>Duplicates: a re-published event keeps its event id and key, so it lands in the same partition and chain. The
 * last {@code dedupWindow} event ids of each chain are remembered (evicted by seq, never by wall clock, so the
 * decision is the same on replay); a repeat is dead-lettered as DUPLICATE_EVENT. State per chain is bounded by that
 * window; the number of chains by the number of partitions.
 *
 * <p>A first start against an existing ledger continues each chain after its last entry: {@link LedgerHeads} is
 * read once, when the job lineage starts without state, and kept as checkpointed operator state (union list state,
 * so it survives rescaling); restores never re-read the database.
 */
public class AuditChainer extends KeyedProcessFunction<String, InputEnvelope, AuditRecord>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final String STAGE = "audit-chainer";

    /** Knobs; defaults in {@link AuditJobConfig}. */
    public record Settings(int dedupWindow, MacKey macKey) implements Serializable {
        public Settings {
            if (dedupWindow < 1) {
                throw new IllegalArgumentException("audit.dedup-window must be >= 1");
            }
        }
    }

    private final Settings settings;
    private final LedgerHeads ledgerHeads;

    private transient ValueState<AuditChainState> chain;
    /** event id -> seq of its entry, for the last dedupWindow entries. */
    private transient MapState<String, Long> seenIds;
    /** seq -> event id: the eviction order of {@link #seenIds}. */
    private transient MapState<Long, String> idsBySeq;
    private transient AuditEntries entries;
    private transient Counter audited;
    private transient Counter duplicates;
    private transient Counter resumedSkipped;
    /** Chains' ledger heads when this lineage first started; checkpointed. */
    private transient Map<String, AuditChainBaseline> baseline;
    private transient ListState<AuditChainBaseline> baselineState;

    public AuditChainer(Settings settings, LedgerHeads ledgerHeads) {
        this.settings = settings;
        this.ledgerHeads = ledgerHeads;
    }

    @Override
    public void open(OpenContext openContext) {
        chain = getRuntimeContext().getState(
                new ValueStateDescriptor<>("audit-chain", new AvroTypeInfo<>(AuditChainState.class)));
        seenIds = getRuntimeContext().getMapState(new MapStateDescriptor<>("audit-seen-ids", Types.STRING, Types.LONG));
        idsBySeq = getRuntimeContext().getMapState(new MapStateDescriptor<>("audit-ids-by-seq", Types.LONG, Types.STRING));
        entries = new AuditEntries(settings.macKey());
        var metrics = getRuntimeContext().getMetricGroup();
        audited = metrics.counter("auditedEvents");
        duplicates = metrics.counter("duplicatesDropped");
        resumedSkipped = metrics.counter("alreadyAuditedSkipped");
    }

    @Override
    public void processElement(InputEnvelope envelope, Context ctx, Collector<AuditRecord> out) throws Exception {
        String chainId = ctx.getCurrentKey();
        AuditChainState state = chain.value();
        if (state == null) {
            AuditChainBaseline b = baseline.get(chainId);
            state = b == null ? AuditEntries.emptyChain() : AuditChainState.newBuilder()
                    .setNextSeq(b.getNextSeq())
                    .setPrevHash(b.getPrevHash())
                    .setChainTime(b.getChainTime())
                    .setResumeAfterOffset(b.getResumeAfterOffset())
                    .build();
        }
        SpecificRecord event = (SpecificRecord) envelope.getEvent();
        if (envelope.getSource().getOffset() <= state.getResumeAfterOffset()) {
            // Audited by an earlier run of the job (found in the ledger at start): its entry exists already.
            resumedSkipped.inc();
            chain.update(state);
            return;
        }
        String eventId = AuditEntries.describe(event).eventId();
        Long firstSeq = seenIds.get(eventId);
        if (firstSeq != null) {
            duplicates.inc();
            DeadLetter dl = DeadLetters.of(DeadLetterReason.DUPLICATE_EVENT, "Event " + eventId + " is already in "
                    + "the audit ledger as " + chainId + " seq " + firstSeq + "; not recorded twice", STAGE,
                    envelope.getSource(), event);
            ctx.output(DeadLetterRouting.DEAD_LETTERS, dl);
            chain.update(state);
            return;
        }
        AuditRecord record = entries.append(state, chainId, envelope.getSource(), event);
        remember(eventId, record.getSeq());
        chain.update(state);
        audited.inc();
        out.collect(record);
    }

    private void remember(String eventId, long seq) throws Exception {
        seenIds.put(eventId, seq);
        idsBySeq.put(seq, eventId);
        long evict = seq - settings.dedupWindow();
        if (evict >= 0) {
            String old = idsBySeq.get(evict);
            if (old != null) {
                idsBySeq.remove(evict);
                // Only if that id still points at the evicted entry (it always does: ids are remembered once).
                Long at = seenIds.get(old);
                if (at != null && at == evict) {
                    seenIds.remove(old);
                }
            }
        }
    }

    /** How many event ids the current key's chain remembers (both indexes must agree); for tests. */
    long rememberedIds() throws Exception {
        long byId = 0;
        for (String ignored : seenIds.keys()) {
            byId++;
        }
        long bySeq = 0;
        for (Long ignored : idsBySeq.keys()) {
            bySeq++;
        }
        if (byId != bySeq) {
            throw new IllegalStateException("dedup indexes disagree: " + byId + " ids, " + bySeq + " seqs");
        }
        return byId;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        baselineState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("audit-ledger-baseline", new AvroTypeInfo<>(AuditChainBaseline.class)));
        baseline = new HashMap<>();
        if (context.isRestored()) {
            // Every subtask stored the map it read at the lineage's first start. The subtask that owns a chain read it
            // before writing anything to it; another subtask may have read it later, so the earliest head wins.
            for (AuditChainBaseline b : baselineState.get()) {
                baseline.merge(b.getChainId(), b, (x, y) -> x.getNextSeq() <= y.getNextSeq() ? x : y);
            }
        } else {
            baseline.putAll(ledgerHeads.findAll());
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        // Union list state: every subtask gets every entry back, whatever the parallelism after a restore.
        baselineState.update(List.copyOf(baseline.values()));
    }
}
