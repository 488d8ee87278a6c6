package io.cosmichorizons.next;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.serde.SchemaHistory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/** The next job jar reads both versions of the lifecycle contract, and the change is a compatible one. */
class NextContractTest {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    @Test
    void theNextContractAddsOneOptionalFieldToThePublishedOne() {
        Schema next = JobLifecycleEvent.getClassSchema();
        Schema published = latestPublished();
        assertNotNull(next.getField("priority"), "the antrun step added the field");
        assertNotEquals(AvroCodec.fingerprint(published), AvroCodec.fingerprint(next));
        assertEquals(published.getFields().size() + 1, next.getFields().size());
        // Both ways: the next jobs read old events and old state, and jobs not yet upgraded could read new events.
        assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(next, published).getType());
        assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(published, next).getType());
    }

    @Test
    void eventsOfTheNextVersionKeepTheNewField() {
        JobLifecycleEvent event = running();
        event.setPriority("high");
        JobLifecycleEvent decoded = decode(AvroCodec.encode(event));
        assertEquals(event, decoded);
        assertEquals("high", decoded.getPriority());
    }

    @Test
    void eventsOfThePublishedVersionStillDecode() throws Exception {
        JobLifecycleEvent event = running();
        // The published schema is the next one minus its trailing field, so the positions of the others agree.
        BinaryMessageEncoder<JobLifecycleEvent> v1 =
                new BinaryMessageEncoder<>(SpecificData.getForClass(JobLifecycleEvent.class), latestPublished());
        ByteBuffer bytes = v1.encode(event);
        byte[] value = new byte[bytes.remaining()];
        bytes.get(value);
        JobLifecycleEvent decoded = decode(value);
        assertEquals(event, decoded);
        assertNull(decoded.getPriority());
        // The audit ledger's payload of an old event is what the current jar wrote: replays hash alike.
        assertFalse(JsonCodec.encodeCanonical(decoded).contains("priority"));
    }

    private static JobLifecycleEvent decode(byte[] value) {
        InputEnvelope envelope = new EventDecoder(EventKind.LIFECYCLE)
                .decode("job-lifecycle", 0, 0, NOW.toEpochMilli(), "job-1".getBytes(StandardCharsets.UTF_8), value);
        assertNull(envelope.getDeadLetter(), () -> "dead-lettered: " + envelope.getDeadLetter());
        return (JobLifecycleEvent) envelope.getEvent();
    }

    private static Schema latestPublished() {
        List<Schema> versions = SchemaHistory.of("JobLifecycleEvent");
        return versions.get(versions.size() - 1);
    }

    private static JobLifecycleEvent running() {
        return JobLifecycleEvent.newBuilder()
                .setEventId("5b3f2a1e-0000-4000-8000-000000000001")
                .setEventType(LifecycleEventType.RUNNING)
                .setJobId("job-1")
                .setUserId("user-0001")
                .setCorrelationId("corr-1")
                .setOccurredAt(NOW)
                .setProducer("orchestrator")
                .setDetails(new RunningDetails(2))
                .build();
    }
}
