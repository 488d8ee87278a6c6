package io.cosmichorizons.pipeline.audit;

import static io.cosmichorizons.pipeline.audit.AuditEvents.T0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.internal.AuditChainBaseline;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerCrypto;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.serde.AvroCodec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The chain operator in a test harness: determinism under replay, hashing, dedup, and bounded state. */
class AuditChainerTest {
    private static final MacKey KEY = MacKey.of("test-key", "dGVzdCBrZXkgZm9yIHRoZSBhdWRpdCBsZWRnZXI=");
    private static final String LIFECYCLE = "job-lifecycle";
    private static final String TRAIL = "audit-trail";

    /** A mixed input of 3 partitions of two topics, interleaved: ~200 lifecycle steps and ~100 actions. */
    private static List<InputEnvelope> input(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Long> offsets = new HashMap<>();
        List<InputEnvelope> out = new ArrayList<>();
        LifecycleEventType[] steps = {LifecycleEventType.SUBMITTED, LifecycleEventType.QUEUED,
                LifecycleEventType.RUNNING, LifecycleEventType.COMPLETED};
        for (int job = 0; job < 50; job++) {
            String jobId = "job-" + job;
            int partition = job % 3;
            for (int s = 0; s < steps.length; s++) {
                long t = job * 60L + s * 10L;
                long offset = offsets.merge(LIFECYCLE + partition, 1L, Long::sum) - 1;
                out.add(AuditEvents.envelope(LIFECYCLE, partition, offset, T0.toEpochMilli() + t * 1000
                        - rnd.nextInt(5_000), AuditEvents.lifecycle(jobId, steps[s], t)));
                if (s % 2 == 0) {
                    long trailOffset = offsets.merge(TRAIL + partition, 1L, Long::sum) - 1;
                    out.add(AuditEvents.envelope(TRAIL, partition, trailOffset, T0.toEpochMilli() + t * 1000,
                            AuditEvents.action("user-" + (job % 4), s == 0 ? "job.submit" : "dataset.download",
                                    s == 0 ? jobId : "products/" + jobId, t)));
                }
            }
        }
        return out;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, InputEnvelope, AuditRecord> harness(int window)
            throws Exception {
        AuditChainer fn = new AuditChainer(new AuditChainer.Settings(window, KEY), LedgerHeads.none());
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn), AuditJob::chainIdOf,
                Types.STRING);
    }

    private static List<AuditRecord> run(List<InputEnvelope> input) throws Exception {
        try (var h = harness(10_000)) {
            h.open();
            for (InputEnvelope e : input) {
                h.processElement(new StreamRecord<>(e));
            }
            return records(h);
        }
    }

    private static List<AuditRecord> records(KeyedOneInputStreamOperatorTestHarness<String, InputEnvelope, AuditRecord> h) {
        return h.extractOutputValues();
    }

    private static List<String> bytes(List<AuditRecord> records) {
        return records.stream().map(r -> HexFormat.of().formatHex(AvroCodec.encode(r))).toList();
    }

    @Test
    void sameInputGivesByteIdenticalEntries() throws Exception {
        List<InputEnvelope> input = input(1);
        assertEquals(bytes(run(input)), bytes(run(input)));
    }

    @Test
    void aRestoreAndReplayReproducesTheSameEntries() throws Exception {
        List<InputEnvelope> input = input(2);
        List<AuditRecord> uninterrupted = run(input);
        int cut = input.size() / 3;
        OperatorSubtaskState snapshot;
        List<AuditRecord> beforeFailure;
        try (var h = harness(10_000)) {
            h.open();
            for (InputEnvelope e : input.subList(0, cut)) {
                h.processElement(new StreamRecord<>(e));
            }
            snapshot = h.snapshot(1L, 1L);
            // Processed after the checkpoint, then lost in a failure: the replay must produce the same entries.
            for (InputEnvelope e : input.subList(cut, cut + 40)) {
                h.processElement(new StreamRecord<>(e));
            }
            beforeFailure = new ArrayList<>(records(h));
        }
        try (var h = harness(10_000)) {
            h.initializeState(snapshot);
            h.open();
            for (InputEnvelope e : input.subList(cut, input.size())) {
                h.processElement(new StreamRecord<>(e));
            }
            List<AuditRecord> all = new ArrayList<>(beforeFailure.subList(0, beforeFailure.size()
                    - countAccepted(input.subList(cut, cut + 40))));
            all.addAll(records(h));
            assertEquals(bytes(uninterrupted), bytes(all), "entries after restore and replay");
            // Entries written before the failure and written again by the replay are byte-identical.
            List<String> replayed = bytes(records(h));
            List<String> lost = bytes(beforeFailure.subList(beforeFailure.size() - countAccepted(input.subList(cut, cut + 40)),
                    beforeFailure.size()));
            assertEquals(lost, replayed.subList(0, lost.size()));
        }
    }

    private static int countAccepted(List<InputEnvelope> input) {
        return input.size(); // this input has no duplicates
    }

    @Test
    void entriesAreGapFreeLinkedHashedAndMacedPerChain() throws Exception {
        List<AuditRecord> records = run(input(3));
        assertEquals(input(3).size(), records.size());
        Map<String, AuditRecord> lastByChain = new HashMap<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY.key(), "HmacSHA256"));
        for (AuditRecord r : records) {
            AuditRecord previous = lastByChain.put(r.getChainId(), r);
            assertEquals(previous == null ? 0 : previous.getSeq() + 1, r.getSeq(), r.getChainId());
            byte[] prev = previous == null ? new byte[32] : AuditEntries.bytes(previous.getHash());
            assertArrayEquals(prev, AuditEntries.bytes(r.getPrevHash()));
            sha.reset();
            sha.update(prev);
            assertArrayEquals(sha.digest(AuditEntries.canonicalBytes(r)), AuditEntries.bytes(r.getHash()));
            assertArrayEquals(mac.doFinal(AuditEntries.bytes(r.getHash())), AuditEntries.bytes(r.getMac()));
            assertEquals(KEY.id(), r.getKeyId());
            assertTrue(r.getChainTime().compareTo(r.getKafkaTimestamp()) >= 0);
            if (previous != null) {
                assertFalse(r.getChainTime().isBefore(previous.getChainTime()), "chain_time never decreases");
            }
        }
        assertEquals(6, lastByChain.size(), "one chain per (topic, partition)");
        assertTrue(lastByChain.containsKey("job-lifecycle/2") && lastByChain.containsKey("audit-trail/0"));
    }

    @Test
    void aRepublishedEventIsDeadLetteredNotRecordedTwice() throws Exception {
        try (var h = harness(100)) {
            h.open();
            var first = AuditEvents.lifecycle("job-1", LifecycleEventType.SUBMITTED, 0);
            h.processElement(new StreamRecord<>(AuditEvents.envelope(LIFECYCLE, 0, 0, T0.toEpochMilli(), first)));
            h.processElement(new StreamRecord<>(AuditEvents.envelope(LIFECYCLE, 0, 1, T0.toEpochMilli(),
                    AuditEvents.lifecycle("job-1", LifecycleEventType.QUEUED, 5))));
            h.processElement(new StreamRecord<>(AuditEvents.envelope(LIFECYCLE, 0, 2, T0.toEpochMilli(), first)));
            assertEquals(List.of(0L, 1L), records(h).stream().map(AuditRecord::getSeq).toList());
            List<DeadLetter> dead = h.getSideOutput(DeadLetterRouting.DEAD_LETTERS).stream().map(StreamRecord::getValue).toList();
            assertEquals(1, dead.size());
            assertEquals(DeadLetterReason.DUPLICATE_EVENT, dead.get(0).getReason());
            assertEquals(AuditChainer.STAGE, dead.get(0).getStage());
            assertEquals(2L, dead.get(0).getSource().getOffset());
            assertTrue(dead.get(0).getMessage().contains("seq 0"), dead.get(0).getMessage());
        }
    }

    @Test
    void rememberedIdsStayWithinTheWindowAndOlderIdsAreForgotten() throws Exception {
        int window = 8;
        try (var h = harness(window)) {
            h.open();
            AuditChainer fn = (AuditChainer) ((KeyedProcessOperator<?, ?, ?>) h.getOperator()).getUserFunction();
            List<InputEnvelope> events = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                events.add(AuditEvents.envelope(LIFECYCLE, 0, i, T0.toEpochMilli() + i,
                        AuditEvents.lifecycle("job-" + i, LifecycleEventType.SUBMITTED, i)));
                h.processElement(new StreamRecord<>(events.get(i)));
                h.getOperator().setCurrentKey("job-lifecycle/0");
                assertEquals(Math.min(i + 1, window), fn.rememberedIds(), "after " + (i + 1) + " events");
            }
            // Within the window: still a duplicate. Beyond it: forgotten, so recorded again (documented trade-off).
            h.processElement(new StreamRecord<>(AuditEvents.envelope(LIFECYCLE, 0, 50, T0.toEpochMilli(),
                    (org.apache.avro.specific.SpecificRecord) events.get(49).getEvent())));
            h.processElement(new StreamRecord<>(AuditEvents.envelope(LIFECYCLE, 0, 51, T0.toEpochMilli(),
                    (org.apache.avro.specific.SpecificRecord) events.get(0).getEvent())));
            assertEquals(1, h.getSideOutput(DeadLetterRouting.DEAD_LETTERS).size());
            assertEquals(51, records(h).size());
            h.getOperator().setCurrentKey("job-lifecycle/0");
            assertEquals(window, fn.rememberedIds());
            // Chain head + two dedup maps for the one key, however many events went through it.
            assertEquals(3, h.numKeyedStateEntries(), "keyed state entries for one chain");
        }
    }

    @Test
    void aChainWithoutStateContinuesAfterItsLastEntryInTheLedger() throws Exception {
        List<InputEnvelope> input = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            input.add(AuditEvents.envelope(LIFECYCLE, 0, i, T0.toEpochMilli() + i * 1000L,
                    AuditEvents.lifecycle("job-" + i, LifecycleEventType.SUBMITTED, i)));
        }
        List<AuditRecord> uninterrupted = run(input);
        AuditRecord third = uninterrupted.get(2);
        LedgerHeads ledger = () -> Map.of("job-lifecycle/0", AuditChainBaseline.newBuilder()
                .setChainId("job-lifecycle/0")
                .setNextSeq(third.getSeq() + 1)
                .setPrevHash(ByteBuffer.wrap(AuditEntries.bytes(third.getHash())))
                .setChainTime(third.getChainTime().toEpochMilli())
                .setResumeAfterOffset(third.getSourceOffset())
                .build());
        AuditChainer fn = new AuditChainer(new AuditChainer.Settings(100, KEY), ledger);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn), AuditJob::chainIdOf,
                Types.STRING)) {
            h.open();
            // A fresh start re-reads from an older committed offset: the first records are already in the ledger.
            for (InputEnvelope e : input.subList(1, input.size())) {
                h.processElement(new StreamRecord<>(e));
            }
            assertEquals(bytes(uninterrupted.subList(3, 6)), bytes(h.extractOutputValues()));
            assertTrue(h.getSideOutput(DeadLetterRouting.DEAD_LETTERS) == null
                    || h.getSideOutput(DeadLetterRouting.DEAD_LETTERS).isEmpty());
        }
        assertEquals(32, LedgerCrypto.zeroHash().length);
    }

    @Test
    void theLedgerBaselineIsReadOnceAndRestoredFromCheckpointsNotReRead() throws Exception {
        List<InputEnvelope> input = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            input.add(AuditEvents.envelope(LIFECYCLE, 0, i, T0.toEpochMilli() + i * 1000L,
                    AuditEvents.lifecycle("job-" + i, LifecycleEventType.SUBMITTED, i)));
        }
        List<AuditRecord> uninterrupted = run(input);
        AuditRecord first = uninterrupted.get(0);
        LedgerHeads atFirstStart = () -> Map.of("job-lifecycle/0", AuditChainBaseline.newBuilder()
                .setChainId("job-lifecycle/0").setNextSeq(1).setPrevHash(first.getHash())
                .setChainTime(first.getChainTime().toEpochMilli()).setResumeAfterOffset(0).build());
        OperatorSubtaskState snapshot;
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(
                new AuditChainer(new AuditChainer.Settings(100, KEY), atFirstStart)), AuditJob::chainIdOf, Types.STRING)) {
            h.open();
            snapshot = h.snapshot(1L, 1L); // the chain has no keyed state yet: only the baseline is checkpointed
        }
        LedgerHeads mustNotBeRead = () -> {
            throw new AssertionError("a restore must not re-read the ledger");
        };
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(
                new AuditChainer(new AuditChainer.Settings(100, KEY), mustNotBeRead)), AuditJob::chainIdOf, Types.STRING)) {
            h.initializeState(snapshot);
            h.open();
            for (InputEnvelope e : input) {
                h.processElement(new StreamRecord<>(e));
            }
            assertEquals(bytes(uninterrupted.subList(1, 4)), bytes(h.extractOutputValues()));
        }
    }
}
