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
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(restUrl + "/jobs/" + id + "/checkpoints"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                JsonNode completed = JSON.readTree(r.body()).path("latest").path("completed");
                total += completed.path("state_size").asLong(0);
            } catch (IOException e) {
                // Counted as unknown (0) for this sample.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return total;
            }
        }
        return total;
    }
}
