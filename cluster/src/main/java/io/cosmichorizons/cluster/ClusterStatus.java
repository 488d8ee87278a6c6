package io.cosmichorizons.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code bin/horizons cluster status} prints: the cluster (processes, TaskManagers, slots), every job with its
 * state, its last checkpoint, and its consumer lag, both as Flink sees it (the sources' {@code pendingRecords}
 * metric) and as Kafka sees it (the job's consumer groups' committed offsets against the end offsets; Flink commits
 * them on every completed checkpoint).
 */
public final class ClusterStatus {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    private final FlinkRestClient rest;
    private final JobHistory history;
    private final String defaultBootstrapServers;

    public ClusterStatus(FlinkRestClient rest, JobHistory history, String defaultBootstrapServers) {
        this.rest = rest;
        this.history = history;
        this.defaultBootstrapServers = defaultBootstrapServers;
    }

    /** The last completed checkpoint of a job, if any. */
    public record Checkpoint(long id, Instant completedAt, long checkpointedBytes, long stateBytes, long durationMs,
            String externalPath, boolean savepoint) {}

    /** The status report, as lines of text. {@code processes} are the local processes, if the cluster is local. */
    public List<String> report(List<LocalCluster.ProcessInfo> processes) {
        List<String> out = new ArrayList<>();
        JsonNode overview = rest.overview();
        out.add(String.format("Flink %s cluster at %s: %d TaskManager(s), %d of %d slots free, jobs: %d running, %d finished, %d cancelled, %d failed",
                overview.path("flink-version").asText(), rest.baseUrl(), overview.path("taskmanagers").asInt(),
                overview.path("slots-available").asInt(), overview.path("slots-total").asInt(),
                overview.path("jobs-running").asInt(), overview.path("jobs-finished").asInt(),
                overview.path("jobs-cancelled").asInt(), overview.path("jobs-failed").asInt()));
        if (!processes.isEmpty()) {
            out.add("Processes: " + String.join(", ", processes.stream()
                    .map(p -> p.name() + " pid " + p.pid() + (p.alive() ? "" : " (dead)")).toList()));
        }
        out.add("TaskManagers:");
        for (JsonNode tm : rest.taskManagers()) {
            long sinceHeartbeat = System.currentTimeMillis() - tm.path("timeSinceLastHeartbeat").asLong();
            out.add(String.format("  %-24s slots %d (%d free)  heap %d MB  managed %d MB  last heartbeat %d ms ago",
                    tm.path("id").asText(), tm.path("slotsNumber").asInt(), tm.path("freeSlots").asInt(),
                    tm.path("hardware").path("freeMemory").asLong() >> 20,
                    tm.path("hardware").path("managedMemory").asLong() >> 20, Math.max(0, sinceHeartbeat)));
        }
        List<FlinkRestClient.JobSummary> jobs = rest.jobs();
        out.add(jobs.isEmpty() ? "Jobs: none (bin/horizons submit all)" : "Jobs:");
        for (FlinkRestClient.JobSummary job : jobs) {
            out.add(String.format("  %-22s %s  %-10s since %s", job.name(), job.id(), job.state(),
                    TIME.format(Instant.ofEpochMilli(job.startTime()))));
            if (job.isGloballyTerminal() && !"CANCELED".equals(job.state()) && !"FINISHED".equals(job.state())) {
                JsonNode root = rest.exceptions(job.id()).path("root-exception");
                if (!root.isMissingNode() && !root.isNull()) {
                    out.add("      failure: " + root.asText().lines().findFirst().orElse(""));
                }
            }
            lastCheckpoint(job.id()).ifPresentOrElse(c -> out.add(String.format(
                            "      last %s #%d completed %s (%s ago), %s in %d ms -> %s",
                            c.savepoint() ? "savepoint" : "checkpoint", c.id(), TIME.format(c.completedAt()),
                            ago(c.completedAt()), bytes(c.checkpointedBytes()), c.durationMs(), c.externalPath())),
                    () -> out.add("      no completed checkpoint yet"));
            if (job.isRunning()) {
                Map<String, Double> pending = pendingRecords(job.id(), Duration.ofSeconds(3));
                if (!pending.isEmpty()) {
                    out.add("      lag (Flink pendingRecords): " + format(pending));
                }
                kafkaLag(job.name()).ifPresent(lag -> out.add("      lag (Kafka committed offsets): " + lag));
            }
        }
        return out;
    }

    /** The latest completed checkpoint or savepoint of a job. */
    public Optional<Checkpoint> lastCheckpoint(String jobId) {
        JsonNode latest = rest.checkpoints(jobId).path("latest");
        Checkpoint best = null;
        for (String kind : List.of("completed", "savepoint")) {
            JsonNode c = latest.path(kind);
            if (c.isMissingNode() || c.isNull() || !c.has("id")) {
                continue;
            }
            Checkpoint candidate = new Checkpoint(c.path("id").asLong(), Instant.ofEpochMilli(c.path("latest_ack_timestamp").asLong()),
                    c.path("checkpointed_size").asLong(), c.path("state_size").asLong(), c.path("end_to_end_duration").asLong(),
                    c.path("external_path").asText(), kind.equals("savepoint"));
            if (best == null || candidate.id() > best.id()) {
                best = candidate;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Sum of {@code pendingRecords} over the subtasks of each source vertex: records not yet fetched. The JobManager
     * fetches metrics from the TaskManagers lazily (on request, at most every metrics.fetcher.update-interval), so the
     * first request after a while may find none yet: this waits up to {@code wait} for them.
     */
    public Map<String, Double> pendingRecords(String jobId, Duration wait) {
        AtomicReference<Map<String, Double>> pending = new AtomicReference<>();
        FlinkRestClient.pollUntil(wait, Duration.ofMillis(250), () -> {
            pending.set(pendingRecords(jobId));
            return !pending.get().isEmpty();
        });
        return pending.get();
    }

    /** Sum of {@code pendingRecords} over the subtasks of each source vertex, as the JobManager has them now. */
    public Map<String, Double> pendingRecords(String jobId) {
        Map<String, Double> pending = new LinkedHashMap<>();
        for (JsonNode vertex : rest.job(jobId).path("vertices")) {
            String vertexId = vertex.path("id").asText();
            if (!vertex.path("name").asText().startsWith("Source")) {
                continue;
            }
            Set<String> names = new TreeSet<>();
            for (String id : rest.vertexMetricIds(jobId, vertexId)) {
                String name = id.replaceFirst("^\\d+\\.", "");
                if (name.endsWith(".pendingRecords") || name.equals("pendingRecords")) {
                    names.add(name);
                }
            }
            rest.vertexMetrics(jobId, vertexId, List.copyOf(names), "sum").forEach((metric, value) ->
                    pending.merge(shortName(metric), value, Double::sum));
        }
        return pending;
    }

    /** Total lag per consumer group of the job, from the settings it was submitted with (see {@link JobHistory}). */
    public Optional<String> kafkaLag(String flinkJobName) {
        Optional<PipelineJob> job = PipelineJobs.ALL.stream().filter(j -> j.jobName().equals(flinkJobName)).findFirst();
        if (job.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> settings = new TreeMap<>();
        for (Option o : job.get().options()) {
            if (o.key().endsWith("group-id") && o.defaultValue() != null) {
                settings.put(o.key(), o.defaultValue());
            }
        }
        history.lastSubmission(job.get().name()).ifPresent(e -> {
            // The arguments were written by JobSubmitter.programArgs: --key value pairs.
            List<String> args = e.programArgs();
            for (int i = 0; i + 1 < args.size(); i += 2) {
                settings.put(args.get(i).replaceFirst("^--", ""), args.get(i + 1));
            }
        });
        String bootstrap = settings.getOrDefault(Settings.KAFKA_BOOTSTRAP_SERVERS, defaultBootstrapServers);
        List<String> groups = settings.entrySet().stream().filter(e -> e.getKey().endsWith("group-id"))
                .map(Map.Entry::getValue).distinct().toList();
        if (groups.isEmpty() || bootstrap == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(String.join(", ", groupLag(bootstrap, groups).entrySet().stream()
                    .map(e -> e.getKey() + " " + (e.getValue() < 0 ? "(no committed offsets yet)" : String.format("%,d", e.getValue())))
                    .toList()));
        } catch (RuntimeException e) {
            return Optional.of("(Kafka at " + bootstrap + " not reachable: " + e.getMessage() + ")");
        }
    }

    /** Committed-offset lag per consumer group: sum over its partitions of (end offset - committed offset). */
    public static Map<String, Long> groupLag(String bootstrapServers, List<String> groups) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        Map<String, Long> lag = new LinkedHashMap<>();
        try (Admin admin = Admin.create(p)) {
            for (String group : groups) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                committed.values().removeIf(java.util.Objects::isNull);
                if (committed.isEmpty()) {
                    lag.put(group, -1L);
                    continue;
                }
                Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
                committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                        .get(10, TimeUnit.SECONDS);
                long total = 0;
                for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.entrySet()) {
                    total += Math.max(0, ends.get(e.getKey()).offset() - e.getValue().offset());
                }
                lag.put(group, total);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e.getCause() != null ? e.getCause().getMessage() : e.toString(), e);
        }
        return lag;
    }

    private static String shortName(String metric) {
        int dot = metric.lastIndexOf('.');
        String operator = dot > 0 ? metric.substring(0, dot) : "source";
        return operator.replace("Source__", "").replace('_', ' ').strip();
    }

    private static String format(Map<String, Double> values) {
        return String.join(", ", values.entrySet().stream()
                .map(e -> e.getKey() + " " + String.format("%,d", Math.round(e.getValue()))).toList());
    }

    static String ago(Instant t) {
        Duration d = Duration.between(t, Instant.now());
        if (d.isNegative()) {
            return "0s";
        }
        return d.toHours() > 0 ? d.toHours() + "h" + d.toMinutesPart() + "m"
                : d.toMinutes() > 0 ? d.toMinutes() + "m" + d.toSecondsPart() + "s" : d.toSeconds() + "s";
    }

    static String bytes(long n) {
        return n >= 1 << 20 ? String.format("%.1f MB", n / 1048576.0) : n >= 1024 ? String.format("%.1f KB", n / 1024.0) : n + " B";
    }
}
