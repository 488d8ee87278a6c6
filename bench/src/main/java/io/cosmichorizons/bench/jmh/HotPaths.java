package io.cosmichorizons.bench.jmh;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.AuditChainState;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.PlannedRecord;
import io.cosmichorizons.generator.WorkloadPlanner;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.CanonicalRecord;
import io.cosmichorizons.pipeline.audit.ledger.LedgerCrypto;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.lifecycle.JobStatuses;
import io.cosmichorizons.pipeline.lifecycle.Transitions;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JMH microbenchmarks of the hot paths, on records of the generator's realistic mix and with the production code:
 * decoding a Kafka record, one lifecycle state-machine step, appending one entry to an audit hash chain, and
 * verifying one stored ledger entry (hash, link and MAC). Run by {@code bin/horizons bench}; throughput in ops/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HotPaths {
    /** Lifecycle records as they are on the wire (Avro single-object), with their coordinates. */
    private final List<ProducerRecord<byte[], byte[]>> wire = new ArrayList<>();
    /** Complete lifecycles (SUBMITTED .. end) of jobs, in order. */
    private final List<List<JobLifecycleEvent>> lifecycles = new ArrayList<>();
    private final List<SourceRecord> sources = new ArrayList<>();
    private final List<JobLifecycleEvent> events = new ArrayList<>();
    private final List<Row> rows = new ArrayList<>();
    private EventDecoder decoder;
    private AuditEntries entries;
    private AuditChainState chain;
    private final CanonicalRecord canonical = new CanonicalRecord();
    private final LedgerCrypto crypto = new LedgerCrypto();
    private byte[] macKey;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        GeneratorConfig config = GeneratorConfig.builder().jobs(500).seed(7)
                .startTime(Instant.parse("2025-01-01T00:00:00Z")).build();
        Map<String, List<JobLifecycleEvent>> byJob = new LinkedHashMap<>();
        for (PlannedRecord r : new WorkloadPlanner(config).planAll().records()) {
            if (r instanceof PlannedRecord.ValidEvent v && v.event() instanceof JobLifecycleEvent e) {
                wire.add(r.toProducerRecord(WireFormat.AVRO));
                byJob.computeIfAbsent(e.getJobId(), k -> new ArrayList<>()).add(e);
            }
        }
        byJob.values().stream().filter(l -> l.size() == 4).forEach(lifecycles::add);
        decoder = new EventDecoder(EventKind.LIFECYCLE, EventDecoder.DEFAULT_MAX_RECORD_BYTES, java.time.Duration.ofDays(3650));
        MacKey key = MacKey.of("bench", "YmVuY2htYXJrIE1BQyBrZXkgKG5vdCBhIHNlY3JldCk=");
        macKey = key.key();
        entries = new AuditEntries(key);
        chain = AuditEntries.emptyChain();
        AuditChainState building = AuditEntries.emptyChain();
        for (int i = 0; i < wire.size(); i++) {
            ProducerRecord<byte[], byte[]> r = wire.get(i);
            SourceRecord source = SourceRecord.newBuilder().setTopic("job-lifecycle").setPartition(0).setOffset(i)
                    .setTimestamp(Instant.ofEpochMilli(r.timestamp())).build();
            sources.add(source);
            InputEnvelope e = decoder.decode("job-lifecycle", 0, i, r.timestamp(), r.key(), r.value());
            events.add((JobLifecycleEvent) e.getEvent());
            rows.add(Row.of(entries.append(building, "job-lifecycle/0", source, events.get(i))));
        }
    }

    private int nextIndex(int size) {
        int i = next++;
        if (next >= size) {
            next = 0;
        }
        return i;
    }

    /** Avro single-object bytes to an envelope with the validated event (the jobs' Kafka deserializer). */
    @Benchmark
    public InputEnvelope decodeLifecycleRecord() {
        int i = nextIndex(wire.size());
        ProducerRecord<byte[], byte[]> r = wire.get(i);
        return decoder.decode("job-lifecycle", 0, i, r.timestamp(), r.key(), r.value());
    }

    /** One lifecycle step: decide the transition and apply it to the job's status (averaged over a whole lifecycle). */
    @Benchmark
    @OperationsPerInvocation(4)
    public JobStatus stateMachineStep() {
        List<JobLifecycleEvent> events = lifecycles.get(nextIndex(lifecycles.size()));
        JobStatus status = null;
        for (JobLifecycleEvent e : events) {
            Transitions.Decision d = Transitions.decide(status, e.getEventType(), e.getOccurredAt());
            if (d != Transitions.Decision.APPLY) {
                throw new IllegalStateException("Unexpected " + d + " for " + e.getEventType());
            }
            status = status == null ? JobStatuses.submitted(e) : JobStatuses.apply(status, e, false);
        }
        return status;
    }

    /** Appending one event to a chain: canonical bytes, JSON payload, SHA-256 link hash and HMAC. */
    @Benchmark
    public AuditRecord hashChainStep() {
        int i = nextIndex(events.size());
        return entries.append(chain, "job-lifecycle/0", sources.get(i), events.get(i));
    }

    /**
     * Verifying one stored entry as the verifier does with the columns it read: rebuild the canonical bytes, re-hash,
     * compare with the stored hash, check the MAC.
     */
    @Benchmark
    public boolean verifyEntry() {
        Row r = rows.get(nextIndex(rows.size()));
        canonical.entry(r.chain, r.seq, r.chainTime, r.topic, r.offset, r.kafkaTime, r.eventId, r.type, r.job, r.actor,
                r.correlation, r.occurred, r.payload);
        byte[] hash = crypto.hash(r.prev, canonical);
        return Arrays.equals(hash, r.hash) && LedgerCrypto.same(crypto.mac(macKey, hash), r.mac);
    }

    /** A stored entry's columns as the verifier reads them (bytes). */
    private record Row(byte[] chain, long seq, long chainTime, byte[] topic, long offset, long kafkaTime, byte[] eventId,
            byte[] type, byte[] job, byte[] actor, byte[] correlation, long occurred, byte[] payload, byte[] prev,
            byte[] hash, byte[] mac) {
        static Row of(AuditRecord r) {
            return new Row(utf8(r.getChainId()), r.getSeq(), r.getChainTime().toEpochMilli(), utf8(r.getSourceTopic()),
                    r.getSourceOffset(), r.getKafkaTimestamp().toEpochMilli(), utf8(r.getEventId()),
                    utf8(r.getEventType()), utf8(r.getJobId()), utf8(r.getActor()), utf8(r.getCorrelationId()),
                    r.getOccurredAt().toEpochMilli(), utf8(r.getPayload()), AuditEntries.bytes(r.getPrevHash()),
                    AuditEntries.bytes(r.getHash()), AuditEntries.bytes(r.getMac()));
        }
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
