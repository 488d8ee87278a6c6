package io.cosmichorizons.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the tooling did to each pipeline job on a cluster, one JSON line per event in
 * {@code <run dir>/jobs/<name>.jsonl}: submissions (job id, program arguments, the snapshot restored from) and stops
 * with a savepoint. Lets {@code submit --from-latest-checkpoint} find the last run's snapshot and {@code status} find
 * the Kafka consumer groups, also after the JobManager forgot the job (e.g. after a restart).
 */
public final class JobHistory {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One recorded event. */
    public record Entry(Instant at, String event, String jobId, List<String> programArgs, String snapshot) {}

    private final Path dir;

    public JobHistory(Path dir) {
        this.dir = dir;
    }

    public void submitted(String name, String jobId, List<String> programArgs, String restoredFrom) {
        append(name, new Entry(Instant.now(), "submitted", jobId, programArgs, restoredFrom));
    }

    public void stopped(String name, String jobId, String savepoint) {
        append(name, new Entry(Instant.now(), "stopped", jobId, List.of(), savepoint));
    }

    /** Every event of a job, oldest first. */
    public List<Entry> entries(String name) {
        Path file = dir.resolve(name + ".jsonl");
        List<Entry> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                List<String> args = new ArrayList<>();
                n.path("programArgs").forEach(a -> args.add(a.asText()));
                out.add(new Entry(Instant.parse(n.path("at").asText()), n.path("event").asText(),
                        n.path("jobId").asText(), args, n.hasNonNull("snapshot") ? n.path("snapshot").asText() : null));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
        return out;
    }

    /** The last submission of a job. */
    public Optional<Entry> lastSubmission(String name) {
        List<Entry> all = entries(name);
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).event().equals("submitted")) {
                return Optional.of(all.get(i));
            }
        }
        return Optional.empty();
    }

    /** The savepoint the job's last run was stopped with, if it was stopped with one and not resubmitted since. */
    public Optional<Entry> stopAfterLastSubmission(String name) {
        List<Entry> all = entries(name);
        return all.isEmpty() || !all.get(all.size() - 1).event().equals("stopped")
                ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    private synchronized void append(String name, Entry e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("at", e.at().toString());
        n.put("event", e.event());
        n.put("jobId", e.jobId());
        // Credentials stay out of the run directory: only addresses, topics and group ids are needed later.
        n.set("programArgs", JSON.valueToTree(e.programArgs().stream()
                .map(a -> a.replaceAll("(?i)(password=)[^&;\\s]*", "$1***")).toList()));
        n.put("snapshot", e.snapshot());
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(name + ".jsonl"), n + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ex) {
            throw new UncheckedIOException("Cannot record the submission of " + name + " in " + dir, ex);
        }
    }
}
