package io.cosmichorizons.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cosmichorizons.waiting.Poll;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * A small client of Flink's REST API (the one the Web UI uses): cluster overview, TaskManagers, jobs and their
 * checkpoints and metrics, jar upload and run, stop-with-savepoint and cancel. See
 * https://nightlies.apache.org/flink/flink-docs-release-2.2/docs/ops/rest_api/.
 */
public final class FlinkRestClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http;
    private final Duration requestTimeout;

    public FlinkRestClient(String baseUrl) {
        this(baseUrl, Duration.ofSeconds(60));
    }

    public FlinkRestClient(String baseUrl, Duration requestTimeout) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** No cluster answers at the REST address. */
    public static final class ClusterUnreachableException extends RuntimeException {
        public ClusterUnreachableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The REST API answered with an error status. */
    public static final class RestException extends RuntimeException {
        private final int status;

        public RestException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    // ------------------------------------------------------------------------------------------------ cluster

    /** {@code GET /overview}: TaskManagers, slots, job counts, Flink version. */
    public JsonNode overview() {
        return get("/overview");
    }

    /** Whether a cluster answers {@code /overview} right now. */
    public boolean isUp() {
        try {
            overview();
            return true;
        } catch (ClusterUnreachableException | RestException e) {
            return false;
        }
    }

    /** {@code GET /taskmanagers}: the registered TaskManagers. */
    public List<JsonNode> taskManagers() {
        return list(get("/taskmanagers").path("taskmanagers"));
    }

    // ------------------------------------------------------------------------------------------------ jobs

    /** One row of {@code GET /jobs/overview}. */
    public record JobSummary(String id, String name, String state, long startTime, long endTime) {
        public boolean isRunning() {
            return "RUNNING".equals(state);
        }

        public boolean isGloballyTerminal() {
            return List.of("FINISHED", "CANCELED", "FAILED").contains(state);
        }
    }

    /** {@code GET /jobs/overview}: every job the JobManager knows, newest first. */
    public List<JobSummary> jobs() {
        List<JobSummary> jobs = new ArrayList<>();
        for (JsonNode j : get("/jobs/overview").path("jobs")) {
            jobs.add(new JobSummary(j.path("jid").asText(), j.path("name").asText(), j.path("state").asText(),
                    j.path("start-time").asLong(), j.path("end-time").asLong()));
        }
        jobs.sort((a, b) -> Long.compare(b.startTime(), a.startTime()));
        return jobs;
    }

    /** The newest job with this name, if the JobManager knows one. */
    public Optional<JobSummary> latestJobNamed(String name) {
        return jobs().stream().filter(j -> j.name().equals(name)).findFirst();
    }

    /** {@code GET /jobs/:jobid}: details including the vertices. */
    public JsonNode job(String jobId) {
        return get("/jobs/" + jobId);
    }

    /** {@code GET /jobs/:jobid/checkpoints}: counts and the latest completed, failed, savepoint and restored. */
    public JsonNode checkpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints");
    }

    /** {@code GET /jobs/:jobid/exceptions}: the root exception and history. */
    public JsonNode exceptions(String jobId) {
        return get("/jobs/" + jobId + "/exceptions");
    }

    /** Metric ids available on a vertex (per subtask, e.g. {@code 0.Source__x.pendingRecords}). */
    public List<String> vertexMetricIds(String jobId, String vertexId) {
        List<String> ids = new ArrayList<>();
        for (JsonNode m : get("/jobs/" + jobId + "/vertices/" + vertexId + "/metrics")) {
            ids.add(m.path("id").asText());
        }
        return ids;
    }

    /**
     * Metric values of a vertex, aggregated over its subtasks: {@code GET /jobs/:jobid/vertices/:vertexid/subtasks/metrics}.
     * Returns metric id -> aggregate (e.g. {@code sum}).
     */
    public Map<String, Double> vertexMetrics(String jobId, String vertexId, List<String> metricNames, String aggregate) {
        if (metricNames.isEmpty()) {
            return Map.of();
        }
        String query = "get=" + URLEncoder.encode(String.join(",", metricNames), StandardCharsets.UTF_8) + "&agg=" + aggregate;
        Map<String, Double> values = new java.util.TreeMap<>();
        for (JsonNode m : get("/jobs/" + jobId + "/vertices/" + vertexId + "/subtasks/metrics?" + query)) {
            if (m.has(aggregate)) {
                values.put(m.path("id").asText(), m.path(aggregate).asDouble());
            }
        }
        return values;
    }

    // ------------------------------------------------------------------------------------------------ submission

    /** {@code POST /jars/upload}: uploads a job jar; returns its jar id. */
    public String uploadJar(Path jar) {
        String boundary = "horizons-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                    + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.write(Files.readAllBytes(jar));
            body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read job jar " + jar, e);
        }
        HttpRequest request = HttpRequest.newBuilder(uri("/jars/upload"))
                .timeout(Duration.ofMinutes(5))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                .build();
        JsonNode response = send(request);
        String filename = response.path("filename").asText();
        if (!"success".equals(response.path("status").asText()) || filename.isEmpty()) {
            throw new RestException(200, "Jar upload did not succeed: " + response);
        }
        return Path.of(filename).getFileName().toString();
    }

    /** What to run from an uploaded jar. */
    public record RunRequest(String entryClass, List<String> programArgs, Integer parallelism, String savepointPath,
            boolean allowNonRestoredState) {}

    /** {@code POST /jars/:jarid/run}: runs the jar's main class; returns the job id. */
    public String runJar(String jarId, RunRequest run) {
        ObjectNode body = JSON.createObjectNode();
        body.put("entryClass", run.entryClass());
        body.set("programArgsList", JSON.valueToTree(run.programArgs()));
        if (run.parallelism() != null) {
            body.put("parallelism", run.parallelism());
        }
        if (run.savepointPath() != null) {
            body.put("savepointPath", run.savepointPath());
            // The new job does not own the snapshot: Flink never deletes it, and the first checkpoint is a full one.
            body.put("claimMode", "NO_CLAIM");
            body.put("allowNonRestoredState", run.allowNonRestoredState());
        }
        JsonNode response = post("/jars/" + jarId + "/run", body, Duration.ofMinutes(3));
        String jobId = response.path("jobid").asText();
        if (jobId.isEmpty()) {
            throw new RestException(200, "Running the jar returned no job id: " + response);
        }
        return jobId;
    }

    /** {@code DELETE /jars/:jarid}. */
    public void deleteJar(String jarId) {
        send(HttpRequest.newBuilder(uri("/jars/" + jarId)).timeout(requestTimeout).DELETE().build());
    }

    // ------------------------------------------------------------------------------------------------ stop, cancel

    /**
     * {@code POST /jobs/:jobid/stop}: stop-with-savepoint (sources stop, a final savepoint is taken, sinks commit, the
     * job ends FINISHED). Waits for the savepoint and returns its location.
     *
     * @param targetDirectory null for the cluster's execution.checkpointing.savepoint-dir
     */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout) {
        return stopWithSavepoint(jobId, targetDirectory, false, timeout);
    }

    /**
     * As above; with {@code drain} the sources first send MAX_WATERMARK, so every event-time window and timer fires
     * before the savepoint: the end of the job's input, for good (do not resume such a savepoint to carry on).
     */
    public String stopWithSavepoint(String jobId, String targetDirectory, boolean drain, Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        if (targetDirectory != null) {
            body.put("targetDirectory", targetDirectory);
        }
        body.put("drain", drain);
        String triggerId = post("/jobs/" + jobId + "/stop", body, requestTimeout).path("request-id").asText();
        return awaitSavepoint(jobId, triggerId, timeout);
    }

    /** {@code POST /jobs/:jobid/savepoints}: a savepoint of a running job, which keeps running. */
    public String triggerSavepoint(String jobId, String targetDirectory, Duration timeout) {
        ObjectNode body = JSON.createObjectNode();
        if (targetDirectory != null) {
            body.put("target-directory", targetDirectory);
        }
        body.put("cancel-job", false);
        String triggerId = post("/jobs/" + jobId + "/savepoints", body, requestTimeout).path("request-id").asText();
        return awaitSavepoint(jobId, triggerId, timeout);
    }

    private String awaitSavepoint(String jobId, String triggerId, Duration timeout) {
        AtomicReference<JsonNode> status = new AtomicReference<>();
        boolean completed = pollUntil(timeout, Duration.ofMillis(200), () -> {
            status.set(get("/jobs/" + jobId + "/savepoints/" + triggerId));
            return "COMPLETED".equals(status.get().path("status").path("id").asText());
        });
        if (!completed) {
            throw new RestException(408, "Savepoint of job " + jobId + " not completed after " + timeout.toSeconds() + " s");
        }
        JsonNode operation = status.get().path("operation");
        if (operation.hasNonNull("location")) {
            return operation.path("location").asText();
        }
        JsonNode cause = operation.path("failure-cause");
        throw new RestException(200, "Savepoint of job " + jobId + " failed: "
                + cause.path("serialized-throwable").asText(cause.toString()).lines().findFirst().orElse(cause.toString())
                + " " + cause.path("stack-trace").asText("").lines().limit(3).toList());
    }

    /** {@code PATCH /jobs/:jobid?mode=cancel}. */
    public void cancel(String jobId) {
        send(HttpRequest.newBuilder(uri("/jobs/" + jobId + "?mode=cancel")).timeout(requestTimeout)
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
    }

    /** Waits until the job reaches one of {@code states}; returns the state. */
    public String awaitJobState(String jobId, Duration timeout, String... states) {
        AtomicReference<String> state = new AtomicReference<>();
        boolean reached = pollUntil(timeout, Duration.ofMillis(200), () -> {
            state.set(job(jobId).path("state").asText());
            return List.of(states).contains(state.get());
        });
        if (reached) {
            return state.get();
        }
        throw new IllegalStateException("Job " + jobId + " is " + state.get() + ", not " + List.of(states) + ", after "
                + timeout.toSeconds() + " s");
    }

    /** Waits until every vertex of the job has all its subtasks RUNNING (the job's own state says RUNNING earlier). */
    public void awaitAllTasksRunning(String jobId, Duration timeout) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        // Stops early, too, when the job has ended: then its tasks will not run any more.
        pollUntil(timeout, Duration.ofMillis(200), () -> {
            last.set(job(jobId));
            return allTasksRunning(last.get())
                    || List.of("FAILED", "CANCELED", "FINISHED").contains(last.get().path("state").asText());
        });
        JsonNode job = last.get();
        if (allTasksRunning(job)) {
            return;
        }
        String state = job.path("state").asText();
        throw new IllegalStateException("Job " + job.path("name").asText() + " (" + jobId + ") does not have all "
                + "tasks running" + (state.equals("RUNNING") || state.equals("RESTARTING") || state.equals("CREATED")
                ? " after " + timeout.toSeconds() + " s" : "") + ": " + state + lastFailure(jobId));
    }

    private static boolean allTasksRunning(JsonNode job) {
        boolean running = "RUNNING".equals(job.path("state").asText()) && job.path("vertices").size() > 0;
        for (JsonNode v : job.path("vertices")) {
            running &= v.path("tasks").path("RUNNING").asInt() == v.path("parallelism").asInt();
        }
        return running;
    }

    /** The job's latest failure as "; last failure: ..." (first lines), or "" when it has none. */
    public String lastFailure(String jobId) {
        try {
            JsonNode root = exceptions(jobId).path("exceptionHistory").path("entries");
            JsonNode latest = root.size() > 0 ? root.get(0) : null;
            if (latest == null) {
                return "";
            }
            String stack = latest.path("stacktrace").asText("");
            List<String> causes = stack.lines().filter(l -> !l.startsWith("\tat ") && !l.startsWith("\t...") && !l.isBlank())
                    .limit(8).toList();
            return "; last failure: " + String.join("\n    ", causes);
        } catch (RuntimeException e) {
            return "";
        }
    }

    // ------------------------------------------------------------------------------------------------ HTTP

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).timeout(requestTimeout).GET().build());
    }

    private JsonNode post(String path, JsonNode body, Duration timeout) {
        return send(HttpRequest.newBuilder(uri(path)).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    private URI uri(String path) {
        return URI.create(baseUrl + path);
    }

    private JsonNode send(HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw unreachable(e);
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectException) {
                throw unreachable(e);
            }
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during " + request.method() + " " + request.uri(), e);
        }
        JsonNode body;
        try {
            body = response.body() == null || response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            body = JSON.createObjectNode().put("raw", response.body());
        }
        if (response.statusCode() >= 400) {
            String errors = body.has("errors") ? firstLines(body.path("errors")) : response.body();
            throw new RestException(response.statusCode(), request.method() + " " + request.uri().getPath() + " -> HTTP "
                    + response.statusCode() + ": " + errors);
        }
        return body;
    }

    private static String firstLines(JsonNode errors) {
        List<String> lines = new ArrayList<>();
        for (JsonNode e : errors) {
            // Flink puts whole stack traces here; the cause lines say what went wrong.
            e.asText().lines().filter(l -> !l.startsWith("\tat ") && !l.isBlank()).limit(6).forEach(lines::add);
        }
        return String.join("\n  ", lines);
    }

    private ClusterUnreachableException unreachable(Exception e) {
        String hostPort = URI.create(baseUrl).getAuthority();
        return new ClusterUnreachableException("no cluster at " + hostPort + ": run bin/horizons cluster start", e);
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /**
     * The deadline-bounded waits of this package: {@link Poll#until}, with an interrupt reported as
     * {@code IllegalStateException("Interrupted")} (the interrupt flag set again) rather than as a wait that timed out.
     *
     * @return true as soon as {@code condition} holds, false once {@code timeout} has passed without it holding
     */
    static boolean pollUntil(Duration timeout, Duration interval, BooleanSupplier condition) {
        if (Poll.until(timeout, interval, condition)) {
            return true;
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException("Interrupted");
        }
        return false;
    }
}
