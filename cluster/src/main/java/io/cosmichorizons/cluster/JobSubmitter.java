package io.cosmichorizons.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Submits pipeline jobs ({@link PipelineJobs#ALL}) to a Flink session cluster through its REST API, the way
 * {@code flink run -d} would: {@code POST /jars/upload} of the shaded job jar once, then {@code POST /jars/:id/run} per
 * job with its main class and {@code --key value} program arguments, optionally restoring a savepoint or retained
 * checkpoint. Stops jobs with a savepoint for upgrades and rescaling.
 */
public final class JobSubmitter {

    private final FlinkRestClient rest;
    private final JobHistory history;
    private final Consumer<String> log;

    public JobSubmitter(FlinkRestClient rest, JobHistory history, Consumer<String> log) {
        this.rest = rest;
        this.history = history;
        this.log = log;
    }

    /** {@code all} or job names (as in {@code bin/horizons jobs}), resolved against {@link PipelineJobs#ALL}. */
    public static List<PipelineJob> resolve(List<String> names) {
        LinkedHashSet<PipelineJob> jobs = new LinkedHashSet<>();
        for (String name : names) {
            if (name.equals("all")) {
                jobs.addAll(PipelineJobs.ALL);
                continue;
            }
            jobs.add(PipelineJobs.byName(name).or(() -> PipelineJobs.ALL.stream()
                            .filter(j -> j.jobName().equals(name)).findFirst())
                    .orElseThrow(() -> new IllegalArgumentException("No job named '" + name + "'; the jobs are: all, "
                            + String.join(", ", PipelineJobs.ALL.stream().map(PipelineJob::name).toList()))));
        }
        return List.copyOf(jobs);
    }

    /**
     * How to submit. {@code jobSettings} adds or replaces settings for one job (by pipeline name), e.g. the audit job's
     * own {@code jdbc.url} with its restricted login.
     */
    public record Options(Map<String, String> settings, Map<String, Map<String, String>> jobSettings,
            Integer parallelism, String savepoint, boolean fromLatestSnapshot, boolean allowNonRestoredState) {
        public Options(Map<String, String> settings, Integer parallelism, String savepoint, boolean fromLatestSnapshot,
                boolean allowNonRestoredState) {
            this(settings, Map.of(), parallelism, savepoint, fromLatestSnapshot, allowNonRestoredState);
        }

        /** The settings of {@code job}: the shared ones, then its own. */
        public Map<String, String> settingsOf(PipelineJob job) {
            Map<String, String> all = new TreeMap<>(settings);
            all.putAll(jobSettings.getOrDefault(job.name(), Map.of()));
            return all;
        }
    }

    /** One submitted job. */
    public record Submitted(PipelineJob job, String jobId, String restoredFrom) {}

    /**
     * Uploads {@code jar} and starts every job. A job whose name is already running on the cluster is refused (two
     * copies would write the same outputs), before anything is submitted.
     */
    public List<Submitted> submit(Path jar, List<PipelineJob> jobs, Options options) {
        if (options.savepoint() != null && jobs.size() != 1) {
            throw new IllegalArgumentException("--savepoint restores one job; name one job, or use "
                    + "--from-latest-checkpoint for several");
        }
        List<FlinkRestClient.JobSummary> onCluster = rest.jobs();
        for (PipelineJob job : jobs) {
            onCluster.stream().filter(j -> j.name().equals(job.jobName()) && !j.isGloballyTerminal()).findFirst()
                    .ifPresent(j -> {
                        throw new IllegalStateException(job.jobName() + " is already " + j.state() + " (job id "
                                + j.id() + "); stop it first: bin/horizons stop " + job.name() + " --savepoint");
                    });
        }
        log.accept("Uploading " + jar.getFileName() + " (" + (jar.toFile().length() >> 20) + " MB) to " + rest.baseUrl());
        String jarId = rest.uploadJar(jar);
        List<Submitted> submitted = new ArrayList<>();
        try {
            for (PipelineJob job : jobs) {
                String snapshot = options.savepoint() != null ? options.savepoint()
                        : options.fromLatestSnapshot() ? latestSnapshot(job).orElse(null) : null;
                if (options.fromLatestSnapshot() && snapshot == null) {
                    log.accept("  " + job.name() + ": no retained checkpoint or savepoint found; starting without state");
                }
                List<String> args = programArgs(options.settingsOf(job), options.parallelism());
                String jobId = rest.runJar(jarId, new FlinkRestClient.RunRequest(job.mainClass().getName(), args,
                        options.parallelism(), snapshot, options.allowNonRestoredState()));
                history.submitted(job.name(), jobId, args, snapshot);
                log.accept("  " + job.name() + " -> " + job.jobName() + " job " + jobId
                        + (snapshot != null ? " (restored from " + snapshot + ")" : ""));
                submitted.add(new Submitted(job, jobId, snapshot));
            }
        } finally {
            // The JobManager keeps what it needs of a running job; the uploaded jar is only a staging copy.
            try {
                rest.deleteJar(jarId);
            } catch (RuntimeException e) {
                log.accept("  (could not delete the uploaded jar " + jarId + ": " + e.getMessage() + ")");
            }
        }
        return submitted;
    }

    /** {@code --key value} for every setting, sorted by key; {@code --parallelism} when given. */
    public static List<String> programArgs(Map<String, String> settings, Integer parallelism) {
        Map<String, String> all = new TreeMap<>(settings);
        if (parallelism != null) {
            all.put("parallelism", String.valueOf(parallelism));
        }
        List<String> args = new ArrayList<>();
        all.forEach((k, v) -> {
            args.add("--" + k);
            args.add(v);
        });
        return args;
    }

    /**
     * Stops the running job named {@code name} (a pipeline name like {@code lifecycle}, a Flink job name, or a job id)
     * with a savepoint; returns the savepoint's location.
     *
     * @param targetDirectory null for the cluster's execution.checkpointing.savepoint-dir
     */
    public String stopWithSavepoint(String name, String targetDirectory, Duration timeout) {
        FlinkRestClient.JobSummary running = runningJob(name);
        String pipelineName = PipelineJobs.ALL.stream().filter(j -> j.jobName().equals(running.name()))
                .map(PipelineJob::name).findFirst().orElse(running.name());
        log.accept("Stopping " + running.name() + " (job " + running.id() + ") with a savepoint ...");
        String savepoint = rest.stopWithSavepoint(running.id(), targetDirectory, timeout);
        history.stopped(pipelineName, running.id(), savepoint);
        return savepoint;
    }

    /** The RUNNING job for a pipeline name, Flink job name or job id. */
    public FlinkRestClient.JobSummary runningJob(String name) {
        String jobName = PipelineJobs.byName(name).map(PipelineJob::jobName).orElse(name);
        List<FlinkRestClient.JobSummary> jobs = rest.jobs();
        return jobs.stream().filter(j -> (j.name().equals(jobName) || j.id().equals(name)) && !j.isGloballyTerminal())
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No running job '" + name + "' on " + rest.baseUrl()
                        + "; running: " + jobs.stream().filter(j -> !j.isGloballyTerminal())
                                .map(j -> j.name() + " (" + j.id() + ")").toList()));
    }

    /**
     * The newest snapshot of the job's last run: the savepoint it was stopped with, else the latest completed
     * checkpoint the JobManager reports for it, else the newest {@code chk-N/_metadata} retained under the
     * checkpoint directory for its job id (the JobManager forgets jobs when it restarts; retained checkpoints stay).
     */
    public Optional<String> latestSnapshot(PipelineJob job) {
        Optional<JobHistory.Entry> stop = history.stopAfterLastSubmission(job.name());
        if (stop.isPresent() && stop.get().snapshot() != null) {
            return Optional.of(stop.get().snapshot());
        }
        Optional<JobHistory.Entry> last = history.lastSubmission(job.name());
        if (last.isEmpty()) {
            // Not submitted from here (another machine, the Web UI, flink run): the JobManager may still know it.
            return rest.latestJobNamed(job.jobName()).filter(FlinkRestClient.JobSummary::isGloballyTerminal)
                    .flatMap(j -> newestSnapshotKnownTo(j.id()));
        }
        String jobId = last.get().jobId();
        try {
            JsonNode completed = rest.checkpoints(jobId).path("latest").path("completed");
            if (completed.hasNonNull("external_path") && !completed.path("discarded").asBoolean(false)) {
                return Optional.of(completed.path("external_path").asText());
            }
        } catch (FlinkRestClient.RestException e) {
            // The JobManager does not know the job (any more): look on disk.
        }
        return Optional.ofNullable(checkpointDirectory).flatMap(dir -> newestRetainedCheckpoint(dir.resolve(jobId)));
    }

    /** The newer of the job's latest completed checkpoint and latest savepoint, as its JobManager reports them. */
    private Optional<String> newestSnapshotKnownTo(String jobId) {
        JsonNode latest = rest.checkpoints(jobId).path("latest");
        JsonNode best = null;
        for (String kind : List.of("completed", "savepoint")) {
            JsonNode c = latest.path(kind);
            if (c.hasNonNull("external_path") && !c.path("discarded").asBoolean(false)
                    && (best == null || c.path("id").asLong() > best.path("id").asLong())) {
                best = c;
            }
        }
        return Optional.ofNullable(best).map(c -> c.path("external_path").asText());
    }

    private Path checkpointDirectory;

    /** Where retained checkpoints are looked for when the JobManager does not know a job any more. */
    public JobSubmitter checkpointDirectory(Path dir) {
        this.checkpointDirectory = dir;
        return this;
    }

    /** The {@code chk-N} folder with the highest N that has a {@code _metadata} file, as a URI. */
    static Optional<String> newestRetainedCheckpoint(Path jobCheckpoints) {
        if (!Files.isDirectory(jobCheckpoints)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(jobCheckpoints)) {
            return dirs.filter(d -> d.getFileName().toString().matches("chk-\\d+") && Files.isRegularFile(d.resolve("_metadata")))
                    .max(Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))))
                    .map(d -> d.toUri().toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
