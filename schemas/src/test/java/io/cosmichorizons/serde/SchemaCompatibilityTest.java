package io.cosmichorizons.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.NotificationPreference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;

/**
 * Evolution is backward compatible only: the current reader schema must read data written with every published
 * version in schemas/history/.
 */
class SchemaCompatibilityTest {

    private static final List<Schema> CURRENT = List.of(
            JobLifecycleEvent.getClassSchema(), JobMetricsEvent.getClassSchema(), AuditTrailEvent.getClassSchema(),
            DeadLetter.getClassSchema(), JobStatus.getClassSchema(), Notification.getClassSchema(),
            NotificationPreference.getClassSchema(), Alert.getClassSchema(), AuditRecord.getClassSchema(),
            MetricsAggregate.getClassSchema());

    @Test
    void everyContractHasAPublishedHistory() {
        Map<String, List<SchemaHistory.Version>> byName =
                SchemaHistory.all().stream().collect(Collectors.groupingBy(SchemaHistory.Version::recordName));
        for (Schema current : CURRENT) {
            assertTrue(byName.containsKey(current.getName()),
                    current.getName() + " has no version in schemas/history; add one to index.txt");
        }
    }

    @Test
    void currentSchemasReadEveryPublishedVersion() {
        List<String> failures = new ArrayList<>();
        for (Schema current : CURRENT) {
            for (Schema older : SchemaHistory.of(current.getName())) {
                SchemaCompatibility.SchemaPairCompatibility result =
                        SchemaCompatibility.checkReaderWriterCompatibility(current, older);
                if (result.getType() != SchemaCompatibilityType.COMPATIBLE) {
                    failures.add(current.getName() + ": " + result.getResult().getIncompatibilities());
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void aNewFieldWithoutDefaultIsRejected() {
        Schema published = SchemaHistory.of("JobMetricsEvent").get(0);
        Schema withRequiredField = addField(published, "{\"name\": \"node_name\", \"type\": \"string\"}");
        SchemaCompatibility.SchemaPairCompatibility result =
                SchemaCompatibility.checkReaderWriterCompatibility(withRequiredField, published);
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, result.getType());
        assertTrue(result.getResult().getIncompatibilities().toString().contains("node_name"));
    }

    @Test
    void aNewOptionalFieldIsAccepted() {
        Schema published = SchemaHistory.of("JobMetricsEvent").get(0);
        Schema withOptionalField =
                addField(published, "{\"name\": \"node_name\", \"type\": [\"null\", \"string\"], \"default\": null}");
        assertEquals(SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(withOptionalField, published).getType());
        assertFalse(withOptionalField.equals(published));
    }

    private static Schema addField(Schema schema, String fieldJson) {
        String json = schema.toString();
        int end = json.lastIndexOf(']');
        return new Schema.Parser().parse(json.substring(0, end) + "," + fieldJson + json.substring(end));
    }
}
