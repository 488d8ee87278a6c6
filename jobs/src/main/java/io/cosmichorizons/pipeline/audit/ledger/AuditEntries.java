package io.cosmichorizons.pipeline.audit.ledger;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.AuditChainState;
import io.cosmichorizons.serde.JsonCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns an accepted event into the next entry of its chain. A pure function of the chain state, the event and the
 * Kafka record's coordinates: nothing from the wall clock enters it, so a replay produces byte-identical entries.
 */
public final class AuditEntries {
    private final CanonicalRecord canonical = new CanonicalRecord();
    private final LedgerCrypto crypto = new LedgerCrypto();
    private final MacKey macKey;
    private final byte[] macKeyBytes;

    public AuditEntries(MacKey macKey) {
        this.macKey = macKey;
        this.macKeyBytes = macKey.key();
    }

    /** The chain id of a source record: {@code <topic>/<partition>}. */
    public static String chainId(SourceRecord source) {
        return chainId(source.getTopic(), source.getPartition());
    }

    public static String chainId(String topic, int partition) {
        return topic + "/" + partition;
    }

    /** The state of a chain that has no entry yet. */
    public static AuditChainState emptyChain() {
        return AuditChainState.newBuilder()
                .setNextSeq(0)
                .setPrevHash(ByteBuffer.wrap(LedgerCrypto.zeroHash()))
                .setChainTime(0)
                .setResumeAfterOffset(-1)
                .build();
    }

    /** The fields of an event that the ledger indexes. */
    public record Described(String eventId, String eventType, String jobId, String actor, String correlationId,
            Instant occurredAt) {}

    /** Event id, type, job, actor, correlation id and time of a lifecycle event or an audit-trail action. */
    public static Described describe(SpecificRecord event) {
        if (event instanceof JobLifecycleEvent e) {
            return new Described(e.getEventId(), e.getEventType().name(), e.getJobId(), e.getUserId(),
                    e.getCorrelationId(), e.getOccurredAt());
        }
        if (event instanceof AuditTrailEvent a) {
            return new Described(a.getEventId(), a.getAction(), "job".equals(a.getResourceType()) ? a.getResourceId() : null,
                    a.getActor(), a.getCorrelationId(), a.getOccurredAt());
        }
        throw new IllegalArgumentException("The audit ledger records lifecycle and audit-trail events, not "
                + event.getSchema().getFullName());
    }

    /**
     * The next entry of {@code chain} for {@code event}, read from {@code source}; advances {@code chain} (seq,
     * prev_hash, chain_time).
     */
    public AuditRecord append(AuditChainState chain, String chainId, SourceRecord source, SpecificRecord event) {
        Described d = describe(event);
        long kafkaTimestamp = source.getTimestamp().toEpochMilli();
        long chainTime = Math.max(chain.getChainTime(), kafkaTimestamp);
        long seq = chain.getNextSeq();
        byte[] prev = bytes(chain.getPrevHash());
        String payload = JsonCodec.encodeCanonical(event);
        canonical.entry(utf8(chainId), seq, chainTime, utf8(source.getTopic()), source.getOffset(), kafkaTimestamp,
                utf8(d.eventId()), utf8(d.eventType()), utf8(d.jobId()), utf8(d.actor()), utf8(d.correlationId()),
                d.occurredAt().toEpochMilli(), utf8(payload));
        byte[] hash = crypto.hash(prev, canonical);
        byte[] mac = crypto.mac(macKeyBytes, hash);
        chain.setNextSeq(seq + 1);
        chain.setPrevHash(ByteBuffer.wrap(hash));
        chain.setChainTime(chainTime);
        return AuditRecord.newBuilder()
                .setChainId(chainId)
                .setSeq(seq)
                .setEventId(d.eventId())
                .setEventType(d.eventType())
                .setSourceTopic(source.getTopic())
                .setJobId(d.jobId())
                .setActor(d.actor())
                .setCorrelationId(d.correlationId())
                .setOccurredAt(d.occurredAt())
                .setKafkaTimestamp(source.getTimestamp())
                .setPayload(payload)
                .setPrevHash(ByteBuffer.wrap(prev))
                .setHash(ByteBuffer.wrap(hash))
                .setMac(ByteBuffer.wrap(mac))
                .setKeyId(macKey.id())
                .setChainTime(Instant.ofEpochMilli(chainTime))
                .setSourceOffset(source.getOffset())
                .build();
    }

    /** The canonical bytes of a stored entry (for tests and tools that rebuild hashes). */
    public static byte[] canonicalBytes(AuditRecord r) {
        return new CanonicalRecord().entry(utf8(r.getChainId()), r.getSeq(), r.getChainTime().toEpochMilli(),
                utf8(r.getSourceTopic()), r.getSourceOffset(), r.getKafkaTimestamp().toEpochMilli(),
                utf8(r.getEventId()), utf8(r.getEventType()), utf8(r.getJobId()), utf8(r.getActor()),
                utf8(r.getCorrelationId()), r.getOccurredAt().toEpochMilli(), utf8(r.getPayload())).toByteArray();
    }

    static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
