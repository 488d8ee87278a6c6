package io.cosmichorizons.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.verification.PublishedInputs.PublishedEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The audit checks on a hand-built ledger of five entries in two chains: a job's three lifecycle events on
 * job-lifecycle partition 3 and two audit-trail actions on audit-trail partition 5. The expected rows are written out
 * literally from the README's audit section, so a mistake in the checks' own derivation shows up here.
 */
class AuditChecksTest {

    private static final String LIFECYCLE = "job-lifecycle";
    private static final String TRAIL = "audit-trail";

    private static final JobLifecycleEvent SUBMITTED = lifecycle("e-1", LifecycleEventType.SUBMITTED, 1_000,
            SubmittedDetails.newBuilder().setPipeline("imaging").setHpcSystem("setonix").setQueue("work")
                    .setRequestedCores(4).setRequestedMemoryBytes(1L << 30).setRequestedWalltimeMs(3_600_000).build());
    /** QueuedDetails.reason is null: the canonical payload leaves it out. */
    private static final JobLifecycleEvent QUEUED = lifecycle("e-2", LifecycleEventType.QUEUED, 2_000,
            QueuedDetails.newBuilder().setHpcJobId("4711").setQueuePosition(0).setReason(null).build());
    /** Cancelled by an admin: the actor is still the job's user. */
    private static final JobLifecycleEvent CANCELLED = lifecycle("e-3", LifecycleEventType.CANCELLED, 3_000,
            CancelledDetails.newBuilder().setReason("wrong input").setCancelledBy("admin-carol").build());
    private static final AuditTrailEvent JOB_ACTION = trail("a-1", "svc-portal", "job.submit", "job", "job-1", 1_100);
    private static final AuditTrailEvent DATASET_ACTION = trail("a-2", "bob", "dataset.download", "dataset", "ds-9", 1_200);

    /**
     * As published: the lifecycle records at offsets 10, 14 and 15 (a duplicate and a bad record in between went to
     * the dead letters), the CANCELLED record's Kafka timestamp below its predecessor's (chain_time stays at 2,050).
     */
    private static final List<PublishedEvent> PUBLISHED = List.of(
            new PublishedEvent(LIFECYCLE, 3, 10, 1_050, SUBMITTED),
            new PublishedEvent(LIFECYCLE, 3, 14, 2_050, QUEUED),
            new PublishedEvent(LIFECYCLE, 3, 15, 2_040, CANCELLED),
            new PublishedEvent(TRAIL, 5, 0, 1_150, JOB_ACTION),
            new PublishedEvent(TRAIL, 5, 1, 1_250, DATASET_ACTION));

    private static final PublishedInputs INPUTS = new PublishedInputs(truth(), PUBLISHED, List.of(), List.of());

    /** The ledger the contract asks for, one row per published event. */
    private static List<Map<String, Object>> correctLedger() {
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("job-lifecycle/3", 0, 1_050, LIFECYCLE, 10, 1_050, SUBMITTED.getEventId(), "SUBMITTED", "job-1",
                "alice", "corr-e-1", 1_000, JsonCodec.encodeCanonical(SUBMITTED)));
        rows.add(row("job-lifecycle/3", 1, 2_050, LIFECYCLE, 14, 2_050, QUEUED.getEventId(), "QUEUED", "job-1",
                "alice", "corr-e-2", 2_000, JsonCodec.encodeCanonical(QUEUED)));
        rows.add(row("job-lifecycle/3", 2, 2_050, LIFECYCLE, 15, 2_040, CANCELLED.getEventId(), "CANCELLED", "job-1",
                "alice", "corr-e-3", 3_000, JsonCodec.encodeCanonical(CANCELLED)));
        rows.add(row("audit-trail/5", 0, 1_150, TRAIL, 0, 1_150, JOB_ACTION.getEventId(), "job.submit", "job-1",
                "svc-portal", "corr-a-1", 1_100, JsonCodec.encodeCanonical(JOB_ACTION)));
        rows.add(row("audit-trail/5", 1, 1_250, TRAIL, 1, 1_250, DATASET_ACTION.getEventId(), "dataset.download", null,
                "bob", "corr-a-2", 1_200, JsonCodec.encodeCanonical(DATASET_ACTION)));
        return rows;
    }

    @Test
    void theCorrectLedgerPassesEveryAuditCheck() {
        Comparison c = new Comparison(AuditChecks.check(INPUTS, snapshot(correctLedger())));
        assertTrue(c.passed(), c::render);
        assertEquals("5 entries equal", c.finding(AuditChecks.ENTRIES_EQUAL_EVENTS).actual());
        assertEquals("0 problems in 2 chains", c.finding(AuditChecks.SEQ_FOLLOWS_OFFSETS).expected());
    }

    static Stream<Arguments> plantedMismatches() {
        return Stream.of(
                // The chain of another partition of the same topic.
                Arguments.of(0, "chain_id", "job-lifecycle/4"),
                Arguments.of(3, "source_topic", LIFECYCLE),
                Arguments.of(1, "source_offset", 13L),
                // chain_time must be the largest Kafka timestamp so far, not the entry's own.
                Arguments.of(2, "chain_time", 2_040L),
                Arguments.of(0, "event_type", "QUEUED"),
                Arguments.of(3, "event_type", "job.cancel"),
                Arguments.of(0, "job_id", "job-2"),
                // An action on a dataset concerns no job, even though its resource id is the Kafka key.
                Arguments.of(4, "job_id", "ds-9"),
                Arguments.of(3, "job_id", null),
                // A lifecycle event's actor is the job's user, also when someone else cancelled the job.
                Arguments.of(2, "actor", "admin-carol"),
                Arguments.of(3, "actor", "alice"),
                Arguments.of(1, "correlation_id", "corr-e-1"),
                Arguments.of(4, "correlation_id", "corr-a-1"),
                // occurred_at is the event time, kafka_timestamp the record's: not interchangeable.
                Arguments.of(0, "occurred_at", 1_050L),
                Arguments.of(3, "occurred_at", 1_150L),
                Arguments.of(0, "kafka_timestamp", 1_000L),
                Arguments.of(4, "kafka_timestamp", 1_200L),
                Arguments.of(1, "payload", JsonCodec.encodeCanonical(SUBMITTED)),
                Arguments.of(4, "payload", JsonCodec.encodeCanonical(JOB_ACTION)));
    }

    @ParameterizedTest(name = "row {0}: {1} = {2}")
    @MethodSource("plantedMismatches")
    void aPlantedFieldMismatchIsReportedWithItsColumn(int index, String column, Object planted) {
        List<Map<String, Object>> ledger = correctLedger();
        String eventId = (String) ledger.get(index).get("event_id");
        ledger.get(index).put(column, planted);

        Finding f = AuditChecks.entriesEqualEvents(INPUTS, snapshot(ledger));

        assertEquals(1, f.differenceCount(), f::toString);
        assertTrue(f.differences().get(0).startsWith("event " + eventId + " ("), f::toString);
        assertTrue(f.differences().get(0).contains(" " + column + ": "), f::toString);
        assertEquals("4 entries equal", f.actual());
    }

    @Test
    void aPayloadThatKeepsItsNullFieldsIsNotCanonical() {
        List<Map<String, Object>> ledger = correctLedger();
        String withNulls = JsonCodec.encodeToString(QUEUED);
        ledger.get(1).put("payload", withNulls);

        Finding f = AuditChecks.entriesEqualEvents(INPUTS, snapshot(ledger));

        assertEquals(1, f.differenceCount(), f::toString);
        assertTrue(withNulls.contains("\"reason\":null"), withNulls);
        assertTrue(f.differences().get(0).startsWith("event e-2 (job-lifecycle/3 seq 1) payload: differs from character"),
                f::toString);
    }

    @Test
    void aLifecycleEventThatWasNotReadBackFailsRatherThanPassingUncompared() {
        PublishedInputs withoutQueued = new PublishedInputs(INPUTS.truth(),
                PUBLISHED.stream().filter(p -> p.event() != QUEUED).toList(), List.of(), List.of());

        Finding f = AuditChecks.entriesEqualEvents(withoutQueued, snapshot(correctLedger()));

        assertEquals("lifecycle event e-2: not found on job-lifecycle, its entry cannot be compared",
                f.differences().get(0), f::toString);
    }

    @Test
    void entriesOutOfSourceOrderAreReported() {
        List<Map<String, Object>> ledger = correctLedger();
        // seq 1 and 2 recorded in the wrong order: each holds the other's record.
        swap(ledger.get(1), ledger.get(2), "seq");

        Finding order = AuditChecks.seqFollowsOffsets(snapshot(ledger));

        assertEquals(List.of("job-lifecycle/3 seq 2: source offset 14, not after seq 1's 15"), order.differences());
        // Every row still equals its own event and the seqs are gap-free: only the order check sees the swap.
        assertTrue(AuditChecks.entriesEqualEvents(INPUTS, snapshot(ledger)).passed());
        assertTrue(AuditChecks.noForkNoGap(snapshot(ledger)).passed());
    }

    @Test
    void aMissingEntryIsLeftToTheCountAndGapChecks() {
        List<Map<String, Object>> ledger = correctLedger();
        ledger.remove(1);

        Comparison c = new Comparison(AuditChecks.check(INPUTS, snapshot(ledger)));

        assertEquals(List.of(AuditChecks.ONE_ENTRY_PER_EVENT, AuditChecks.NO_FORK_NO_GAP),
                c.failures().stream().map(Finding::check).toList(), c::render);
    }

    @Test
    void anEntryOfAnEventThatWasNotPublishedIsLeftToTheCountCheck() {
        List<Map<String, Object>> ledger = correctLedger();
        Map<String, Object> stranger = new HashMap<>(ledger.get(4));
        stranger.put("seq", 2L);
        stranger.put("prev_hash", "audit-trail/5 h2");
        stranger.put("source_offset", 2L);
        stranger.put("event_id", "a-unknown");
        ledger.add(stranger);

        Comparison c = new Comparison(AuditChecks.check(INPUTS, snapshot(ledger)));

        assertEquals(List.of(AuditChecks.ONE_ENTRY_PER_EVENT), c.failures().stream().map(Finding::check).toList(),
                c::render);
    }

    // ------------------------------------------------------------------------------------------ fixtures

    private static JobLifecycleEvent lifecycle(String id, LifecycleEventType type, long at, Object details) {
        return JobLifecycleEvent.newBuilder().setEventId(id).setEventType(type).setJobId("job-1").setUserId("alice")
                .setCorrelationId("corr-" + id).setOccurredAt(Instant.ofEpochMilli(at)).setProducer("orchestrator")
                .setDetails(details).build();
    }

    private static AuditTrailEvent trail(String id, String actor, String action, String resourceType,
            String resourceId, long at) {
        return AuditTrailEvent.newBuilder().setEventId(id).setActor(actor).setAction(action)
                .setResourceType(resourceType).setResourceId(resourceId).setOutcome(AuditOutcome.SUCCESS)
                .setDetails(Map.of("ip", "10.0.0.7", "client", "web")).setOccurredAt(Instant.ofEpochMilli(at))
                .setCorrelationId("corr-" + id).build();
    }

    private static Map<String, Object> row(String chain, long seq, long chainTime, String topic, long offset,
            long kafkaTimestamp, String eventId, String eventType, String jobId, String actor, String correlationId,
            long occurredAt, String payload) {
        Map<String, Object> r = new HashMap<>();
        r.put("chain_id", chain);
        r.put("seq", seq);
        r.put("chain_time", chainTime);
        r.put("source_topic", topic);
        r.put("source_offset", offset);
        r.put("kafka_timestamp", kafkaTimestamp);
        r.put("event_id", eventId);
        r.put("event_type", eventType);
        r.put("job_id", jobId);
        r.put("actor", actor);
        r.put("correlation_id", correlationId);
        r.put("occurred_at", occurredAt);
        r.put("payload", payload);
        // Distinct predecessors per chain; the hashes themselves are audit_verify's business.
        r.put("prev_hash", chain + " h" + seq);
        r.put("hash", chain + " h" + (seq + 1));
        return r;
    }

    private static void swap(Map<String, Object> a, Map<String, Object> b, String column) {
        Object x = a.get(column);
        a.put(column, b.get(column));
        b.put(column, x);
    }

    private static OutputSnapshot snapshot(List<Map<String, Object>> ledger) {
        return new OutputSnapshot(Map.of(OutputSnapshot.AUDIT_EVENTS, ledger), List.of(), List.of(), List.of(),
                List.of(), List.of());
    }

    private static GroundTruth truth() {
        List<GroundTruth.Step> steps = List.of(
                new GroundTruth.Step("e-1", LifecycleEventType.SUBMITTED, 1_000, "corr-e-1"),
                new GroundTruth.Step("e-2", LifecycleEventType.QUEUED, 2_000, "corr-e-2"),
                new GroundTruth.Step("e-3", LifecycleEventType.CANCELLED, 3_000, "corr-e-3"));
        GroundTruth.Job job = new GroundTruth.Job("job-1", "alice", "setonix", "work", "imaging", 4, 1L << 30,
                3_600_000, "4711", LifecycleEventType.CANCELLED, null, null, null, null, null, null, "wrong input",
                "admin-carol", steps, 0);
        GroundTruth.Run run = new GroundTruth.Run(1, 0, 60_000, 1, 1, WireFormat.AVRO,
                new TopicNames(LIFECYCLE, "job-metrics", TRAIL, "notification-preferences"), 60,
                new GeneratorConfig.OutcomeMix(0, 0, 1), 0, 0, 0, 0);
        return new GroundTruth(run, List.of(), List.of(job), List.of(),
                new GroundTruth.Totals(5, Map.of(), Map.of(), Map.of(), 1_000, 3_000));
    }
}
