package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.pipeline.audit.ledger.ComplianceReport;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.testbed.RealServices;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The compliance report from a populated ledger with anchors and a dead-letter topic, in all three formats; the
 * numbers are compared with the fixture's own entries.
 */
@ExtendWith(RealServices.class)
class ComplianceReportITCase {
    private static LedgerFixture ledger;
    private static ComplianceReport.Data data;
    private static Instant from;
    private static Instant to;
    private static Map<String, Long> expectedByType;
    private static Map<String, Long> expectedByOutcome;

    @BeforeAll
    static void collect() throws Exception {
        Instant start = Instant.now().minus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        ledger = LedgerFixture.create("audit_report").addJobs("rep", 60, 3, start, 1_800);
        for (int i = 0; i < 2; i++) {
            assertTrue(LedgerAnchoring.anchor(ledger.jdbcUrl, LedgerFixture.SIGNER, ledger.verifyOptions(),
                    Clock.systemUTC()).anchored());
        }
        // The period leaves out the first job's first hour, to show the period is honoured.
        from = start.plus(Duration.ofMinutes(1));
        to = Instant.now();
        List<AuditRecord> inPeriod = ledger.chains.values().stream().flatMap(List::stream)
                .filter(r -> !r.getOccurredAt().isBefore(from) && r.getOccurredAt().isBefore(to)).toList();
        expectedByType = inPeriod.stream().collect(Collectors.groupingBy(AuditRecord::getEventType, TreeMap::new,
                Collectors.counting()));
        Map<String, String> outcomeByJob = new TreeMap<>();
        inPeriod.stream().filter(r -> r.getSourceTopic().equals("job-lifecycle")).forEach(r -> outcomeByJob.merge(
                r.getJobId(), List.of("COMPLETED", "FAILED", "CANCELLED").contains(r.getEventType()) ? r.getEventType()
                        : "IN_PROGRESS", (a, b) -> a.equals("IN_PROGRESS") ? b : a));
        expectedByOutcome = new TreeMap<>(outcomeByJob.values().stream()
                .collect(Collectors.groupingBy(o -> o, Collectors.counting())));

        String topic = RealServices.uniqueName("audit-report-dlq");
        RealServices.createTopic(topic, 1);
        Properties p = new Properties();
        p.put("bootstrap.servers", RealServices.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            publish(producer, topic, DeadLetterReason.INVALID_TRANSITION, "lifecycle-state-machine",
                    "Job rep-3: RUNNING after COMPLETED <script>alert(1)</script>", from.plusSeconds(60));
            publish(producer, topic, DeadLetterReason.INVALID_TRANSITION, "lifecycle-state-machine",
                    "Job rep-4: QUEUED after CANCELLED", from.plusSeconds(120));
            publish(producer, topic, DeadLetterReason.UNPARSEABLE, "audit-deserializer", "Not valid JSON", from.plusSeconds(180));
            publish(producer, topic, DeadLetterReason.UNPARSEABLE, "deserializer", "Before the period", from.minusSeconds(600));
            producer.flush();
        }
        data = ComplianceReport.collect(ledger.jdbcUrl, from, to, ledger.verifyOptions(), RealServices.bootstrapServers(), topic);
    }

    private static void publish(KafkaProducer<byte[], byte[]> producer, String topic, DeadLetterReason reason, String stage,
            String message, Instant at) {
        DeadLetter dl = DeadLetter.newBuilder().setReason(reason).setStage(stage).setMessage(message)
                .setSource(SourceRecord.newBuilder().setTopic("job-lifecycle").setPartition(0).setOffset(1)
                        .setTimestamp(at).build())
                .build();
        producer.send(new ProducerRecord<>(topic, null, at.toEpochMilli(), null, AvroCodec.encode(dl)));
    }

    @Test
    void jsonHasTheLedgersNumbers() throws Exception {
        JsonNode json = new ObjectMapper().readTree(ComplianceReport.json(data));
        assertEquals(expectedByType, toMap(json.get("events_by_type")));
        assertEquals(expectedByType.values().stream().mapToLong(Long::longValue).sum(), json.get("events").asLong());
        Map<String, Long> outcomes = toMap(json.get("jobs_by_outcome"));
        outcomes.values().removeIf(n -> n == 0);
        assertEquals(expectedByOutcome, outcomes);
        Map<String, Long> byActor = ledger.chains.values().stream().flatMap(List::stream)
                .filter(r -> !r.getOccurredAt().isBefore(from) && r.getOccurredAt().isBefore(to))
                .collect(Collectors.groupingBy(AuditRecord::getActor, TreeMap::new, Collectors.counting()));
        assertEquals(byActor, toMap(json.get("events_by_actor")));
        JsonNode verification = json.get("verification");
        assertEquals("CLEAN", verification.get("verdict").asText());
        assertEquals(ledger.chains.size(), verification.get("chains").size());
        for (JsonNode chain : verification.get("chains")) {
            assertEquals("CLEAN", chain.get("status").asText());
            assertEquals(ledger.chains.get(chain.get("chain_id").asText()).size(), chain.get("entries").asLong());
        }
        JsonNode policy = json.get("policy");
        assertEquals(2, policy.get("anchors").asInt());
        assertEquals(ledger.size(), policy.get("entries_total").asLong());
        assertEquals(ledger.chains.values().stream().flatMap(List::stream).map(AuditRecord::getOccurredAt)
                .min(Instant::compareTo).orElseThrow().toString(), policy.get("oldest_entry").asText());
        assertTrue(policy.get("retention_keep_days").isNull(), "no retention has run");
        JsonNode dl = json.get("dead_letters");
        assertTrue(dl.get("available").asBoolean());
        assertEquals(Map.of("INVALID_TRANSITION", 2L, "UNPARSEABLE", 1L), toMap(dl.get("by_reason")));
        assertEquals(Map.of("lifecycle-state-machine", 2L, "audit-deserializer", 1L), toMap(dl.get("by_stage")));
        assertEquals(2, dl.get("invalid_transitions").asLong());
    }

    @Test
    void markdownHasTablesForEverySection() {
        String md = ComplianceReport.markdown(data);
        assertTrue(md.contains("Ledger verification: **CLEAN**"), md);
        expectedByType.forEach((type, n) -> assertTrue(md.contains("| " + type + " | " + n + " |"), type));
        expectedByOutcome.forEach((o, n) -> assertTrue(md.contains("| " + o + " | " + n + " |"), o));
        for (String section : List.of("## Events by type", "## Events by actor", "## Jobs by outcome", "## Policy status",
                "## Verification by chain", "## Dead letters and invalid transitions")) {
            assertTrue(md.contains(section), section);
        }
        assertTrue(md.contains("| INVALID_TRANSITION | 2 |"), md);
        ledger.chains.forEach((chain, entries) -> assertTrue(md.contains("| " + chain + " | CLEAN | " + entries.size() + " |"), chain));
        assertFalse(md.contains("<script>"), "untrusted text is escaped");
    }

    @Test
    void htmlHasChartsAndEscapesUntrustedText() {
        String html = ComplianceReport.html(data);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("class=\"verdict clean\""), "verdict banner");
        // Charts: events by type, by actor, jobs by outcome, the chain grid, dead letters by reason and stage.
        assertEquals(6, count(html, "<svg "), "inline SVG charts");
        assertEquals(ledger.chains.size(), count(html, "rx=\"3\" fill=\"#2e7d32\""), "one green square per clean chain");
        expectedByType.forEach((type, n) -> assertTrue(html.contains("<title>" + type + ": " + n + "</title>"), type));
        assertFalse(html.contains("<script>"), "untrusted text is escaped");
        assertTrue(html.contains("&lt;script&gt;"));
    }

    private static Map<String, Long> toMap(JsonNode node) {
        Map<String, Long> m = new TreeMap<>();
        node.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asLong()));
        return m;
    }

    private static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
