package io.cosmichorizons.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.dashboard.Views.FlinkJob;
import io.cosmichorizons.dashboard.Views.FlinkStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The Flink REST API: every job ({@code /jobs/overview}) and, for running ones, the last completed checkpoint
 * ({@code /jobs/:id/checkpoints}).
 */
final class FlinkFeed {
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    FlinkFeed(URI base) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s : s + "/");
    }

    FlinkStatus poll() {
        try {
            JsonNode overview = get("jobs/overview");
            List<FlinkJob> jobs = new ArrayList<>();
            for (JsonNode job : overview.path("jobs")) {
                String id = job.path("jid").asText();
                String state = job.path("state").asText();
                Long checkpointId = null;
                Long checkpointAt = null;
                Long duration = null;
                Long size = null;
                long completed = 0;
                long failed = 0;
                if ("RUNNING".equals(state)) {
                    JsonNode checkpoints = get("jobs/" + id + "/checkpoints");
                    completed = checkpoints.path("counts").path("completed").asLong();
                    failed = checkpoints.path("counts").path("failed").asLong();
                    JsonNode last = checkpoints.path("latest").path("completed");
                    if (last.isObject()) {
                        checkpointId = last.path("id").asLong();
                        checkpointAt = last.path("latest_ack_timestamp").asLong();
                        duration = last.path("end_to_end_duration").asLong();
                        size = last.has("checkpointed_size") ? last.path("checkpointed_size").asLong()
                                : last.path("state_size").asLong();
                    }
                }
                jobs.add(new FlinkJob(id, job.path("name").asText(), state, checkpointId, checkpointAt, duration, size,
                        completed, failed));
            }
            jobs.sort(Comparator.comparing(FlinkJob::name).thenComparing(FlinkJob::id));
            return new FlinkStatus(true, base.toString(), true, null, jobs);
        } catch (IOException e) {
            return new FlinkStatus(true, base.toString(), false, describe(e), List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new FlinkStatus(true, base.toString(), false, "interrupted", List.of());
        }
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(3))
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + " answered HTTP " + r.statusCode());
        }
        return LiveState.JSON.readTree(r.body());
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
