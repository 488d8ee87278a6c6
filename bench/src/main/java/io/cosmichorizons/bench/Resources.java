package io.cosmichorizons.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.JobID;

/** Memory of this JVM (where the MiniCluster runs) and the jobs' checkpointed state size. */
final class Resources {
    private static final double MB = 1024.0 * 1024.0;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Resources() {}

    static double heapUsedMb() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / MB;
    }

    /** Heap in use right after a full collection (System.gc; G1 does a full, stop-the-world collection). */
    static double heapAfterGcMb() {
        ManagementFactory.getMemoryMXBean().gc();
        return heapUsedMb();
    }

    /** Resident set size of this process (heap, metaspace, threads, RocksDB's native memory ...), from /proc. */
    static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux: no figure.
        }
        return Double.NaN;
    }

    /** Full state size (bytes) of the latest completed checkpoint of each job, summed; 0 before the first one. */
    static long stateBytes(String restUrl, List<JobID> jobs) {
        long total = 0;
        for (JobID id : jobs) {
            JsonNode checkpoints = checkpoints(restUrl, id);
            if (checkpoints == null) {
                if (Thread.currentThread().isInterrupted()) {
                    return total;
                }
                continue; // counted as unknown (0) for this sample
            }
            total += checkpoints.path("latest").path("completed").path("state_size").asLong(0);
        }
        return total;
    }

    /**
     * The job's checkpoint statistics in one line: completed and failed counts and the end-to-end duration (trigger
     * to acknowledged by every task) p50 / p99 / max. A transactional sink's output becomes visible only when the
     * checkpoint after it completes, so this is what bounds the exactly-once latency.
     */
    static String checkpointDurations(String restUrl, JobID job) {
        JsonNode c = checkpoints(restUrl, job);
        if (c == null) {
            return "checkpoint statistics unavailable";
        }
        JsonNode d = c.path("summary").path("end_to_end_duration");
        return String.format(java.util.Locale.ROOT, "%,d checkpoints completed, %,d failed; duration p50 %,d p99 %,d max %,d ms",
                c.path("counts").path("completed").asLong(), c.path("counts").path("failed").asLong(),
                d.path("p50").asLong(), d.path("p99").asLong(), d.path("max").asLong());
    }

    /** {@code GET /jobs/:id/checkpoints}, or null when it cannot be read (interrupted: the flag is set again). */
    private static JsonNode checkpoints(String restUrl, JobID job) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + job + "/checkpoints"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
