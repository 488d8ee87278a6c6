package io.cosmichorizons.generator;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams a ground truth to a file as JSON lines, so that million-event workloads never hold it in memory. Every line
 * is one object whose {@code "record"} field says what it is; the other fields are those of the matching
 * {@link GroundTruth} record in snake_case, times in epoch milliseconds:
 *
 * <pre>
 * {"record":"run","seed":42,"start_time":1764280800000,"submission_window_ms":3600000,"jobs":600,...,"topics":{...}}
 * {"record":"preference","user_id":"user-0003","channels":["WEBSOCKET"],"muted":false,"updated_at":...}
 * {"record":"job","job_id":"job-1a2b3c4d-000000","user_id":"user-0001","hpc_system":"setonix","queue":"work",
 *   "pipeline":"imaging","requested_cores":64,...,"final_status":"COMPLETED","exit_code":0,"error_code":null,...,
 *   "lifecycle":[{"event_id":"...","type":"SUBMITTED","occurred_at":...,"correlation_id":"..."},...],
 *   "metrics_samples":12}
 * {"record":"injected","topic":"job-lifecycle","key":"job-...","kind":"TRUNCATED_AVRO",
 *   "expected_reason":"UNPARSEABLE","event_id":"...","timestamp":...}
 * {"record":"totals","records":12345,"records_per_topic":{...},"valid_events_per_type":{...},"injected_per_kind":{...}}
 * </pre>
 *
 * Lines come in the order of {@link GroundTruthSink}: run, preferences, jobs and injected records interleaved, totals
 * last. A file without a totals line is from a run that did not finish.
 */
public final class GroundTruthWriter implements GroundTruthSink, AutoCloseable {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            // Readers of older files should not break when a field is added.
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;
    private final BufferedWriter out;

    /** Creates or truncates {@code file}. */
    public GroundTruthWriter(Path file) throws IOException {
        this.file = file;
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    @Override
    public void run(GroundTruth.Run run) {
        write("run", run);
    }

    @Override
    public void preference(GroundTruth.Preference preference) {
        write("preference", preference);
    }

    @Override
    public void job(GroundTruth.Job job) {
        write("job", job);
    }

    @Override
    public void injected(GroundTruth.Injected record) {
        write("injected", record);
    }

    @Override
    public void totals(GroundTruth.Totals totals) {
        write("totals", totals);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private void write(String type, Object value) {
        ObjectNode line = MAPPER.createObjectNode().put("record", type);
        line.setAll((ObjectNode) MAPPER.valueToTree(value));
        try {
            out.write(MAPPER.writeValueAsString(line));
            out.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the ground truth to " + file, e);
        }
    }

    static GroundTruth read(Path file) throws IOException {
        GroundTruth.Collector collector = GroundTruth.collector();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int lineNumber = 0;
            while ((text = in.readLine()) != null) {
                lineNumber++;
                if (text.isBlank()) {
                    continue;
                }
                ObjectNode line = (ObjectNode) MAPPER.readTree(text);
                JsonNode type = line.remove("record");
                switch (type == null ? "" : type.asText()) {
                    case "run" -> collector.run(MAPPER.treeToValue(line, GroundTruth.Run.class));
                    case "preference" -> collector.preference(MAPPER.treeToValue(line, GroundTruth.Preference.class));
                    case "job" -> collector.job(MAPPER.treeToValue(line, GroundTruth.Job.class));
                    case "injected" -> collector.injected(MAPPER.treeToValue(line, GroundTruth.Injected.class));
                    case "totals" -> collector.totals(MAPPER.treeToValue(line, GroundTruth.Totals.class));
                    default -> throw new IOException(file + ":" + lineNumber + ": unknown record type in " + text);
                }
            }
        }
        return collector.result();
    }
}
