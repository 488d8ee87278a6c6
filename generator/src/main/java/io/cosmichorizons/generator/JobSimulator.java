package io.cosmichorizons.generator;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.publisher.TopicNames;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Invents one job: what was asked for, how long it waited and ran, how it ended, and the events that tell it. Every
 * choice is drawn from the job's own random stream, so a job depends only on the seed and its index.
 */
final class JobSimulator {
    static final String ORCHESTRATOR = "orchestrator";

    private record HpcSystem(String name, int coresPerNode) {}

    private record Queue(String name, int[] cores, long[] walltimesMs, double medianRunMs, long memoryPerCore) {}

    private static final long MINUTE = 60_000;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;
    private static final long GIB = 1L << 30;

    private static final List<HpcSystem> SYSTEMS = List.of(
            new HpcSystem("setonix", 128), new HpcSystem("gadi", 48),
            new HpcSystem("perlmutter", 128), new HpcSystem("frontier", 56));
    private static final double[] SYSTEM_WEIGHTS = {0.35, 0.25, 0.25, 0.15};

    private static final List<Queue> QUEUES = List.of(
            new Queue("work", new int[] {16, 32, 64, 128, 256}, new long[] {HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, DAY},
                    10 * MINUTE, 4 * GIB),
            new Queue("debug", new int[] {1, 2, 4, 8}, new long[] {30 * MINUTE, HOUR}, 3 * MINUTE, 4 * GIB),
            new Queue("gpu", new int[] {8, 16, 32, 64}, new long[] {2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR},
                    10 * MINUTE, 8 * GIB));
    private static final double[] QUEUE_WEIGHTS = {0.70, 0.15, 0.15};

    private static final List<String> PIPELINES = List.of("imaging", "calibration", "source-finding", "spectral-line");
    private static final double[] PIPELINE_WEIGHTS = {0.35, 0.25, 0.20, 0.20};

    /** Median time from SUBMITTED until the scheduler accepts the job. */
    private static final double MEDIAN_SUBMIT_TO_QUEUE_MS = 1_500;
    private static final double MEDIAN_QUEUE_WAIT_MS = 2 * MINUTE;
    private static final long MAX_QUEUE_WAIT_MS = 2 * DAY;
    /** Share of failures that are scheduler rejections right after QUEUED; the rest fail while running. */
    private static final double REJECTION_SHARE = 0.15;
    /** Cancellations: 15 % before the job is queued, 45 % (0.53 of the rest) while queued, 40 % while running. */
    private static final double CANCEL_BEFORE_QUEUED = 0.15;
    private static final double CANCEL_WHILE_QUEUED = 0.53;
    private static final double DATASET_DOWNLOAD_SHARE = 0.10;
    private static final double MEMBER_ADD_SHARE = 0.02;

    private final GeneratorConfig config;
    private final TopicNames topics;
    private final String jobIdPrefix;
    private final long metricsIntervalMs;

    JobSimulator(GeneratorConfig config) {
        this.config = config;
        this.topics = config.topics();
        // The seed is part of every job id, so workloads from different seeds can share topics and tables.
        this.jobIdPrefix = String.format("job-%08x-", (int) Randoms.mix64(config.seed()));
        this.metricsIntervalMs = config.metricsIntervalSeconds() * 1000L;
    }

    SimulatedJob simulate(int index, long submittedAt) {
        Random rnd = Randoms.stream(config.seed(), Randoms.JOB, index);
        String jobId = jobIdPrefix + String.format("%06d", index);
        Script script = new Script(rnd, jobId);
        String userId = userId(skewedUser(rnd));
        HpcSystem system = SYSTEMS.get(Randoms.weighted(rnd, SYSTEM_WEIGHTS));
        Queue queue = QUEUES.get(Randoms.weighted(rnd, QUEUE_WEIGHTS));
        String pipeline = PIPELINES.get(Randoms.weighted(rnd, PIPELINE_WEIGHTS));
        int cores = queue.cores()[rnd.nextInt(queue.cores().length)];
        long memory = cores * queue.memoryPerCore();
        long walltime = queue.walltimesMs()[rnd.nextInt(queue.walltimesMs().length)];
        String hpcJobId = Long.toString(4_000_000L + index);
        String submitCorrelation = Randoms.uuid(rnd);
        LifecycleEventType outcome = outcome(rnd);

        // The timeline the job would follow if nothing stopped it; the outcome decides where it actually ends.
        long queuedAt = submittedAt + Math.max(1, Math.round(Randoms.lognormal(rnd, MEDIAN_SUBMIT_TO_QUEUE_MS, 0.6)));
        long wait = Math.max(1, Math.min(MAX_QUEUE_WAIT_MS, Math.round(Randoms.lognormal(rnd, MEDIAN_QUEUE_WAIT_MS, 1.2))));
        long startedAt = queuedAt + wait;
        long naturalRun = Math.max(1_000, Math.round(Randoms.lognormal(rnd, queue.medianRunMs(), 1.0)));
        long cappedRun = Math.min(naturalRun, (long) (walltime * 0.95));

        JobOutcome end = new JobOutcome();
        script.lifecycle(LifecycleEventType.SUBMITTED, submittedAt, userId, submitCorrelation, ORCHESTRATOR,
                new SubmittedDetails(pipeline, system.name(), queue.name(), cores, memory, walltime));
        script.audit(submittedAt, userId, "job.submit", "job", jobId, AuditOutcome.SUCCESS, submitCorrelation,
                Map.of("pipeline", pipeline, "hpc_system", system.name(), "queue", queue.name()));

        String bridge = "slurm-bridge:" + system.name();
        boolean ran = false;
        long endedAt;
        if (outcome == LifecycleEventType.CANCELLED && rnd.nextDouble() < CANCEL_BEFORE_QUEUED) {
            endedAt = cancel(script, rnd, end, submittedAt, queuedAt - submittedAt, jobId, userId);
        } else {
            script.lifecycle(LifecycleEventType.QUEUED, queuedAt, userId, submitCorrelation, bridge,
                    new QueuedDetails(hpcJobId, rnd.nextInt(50), rnd.nextBoolean() ? "Priority" : "Resources"));
            if (outcome == LifecycleEventType.CANCELLED && rnd.nextDouble() < CANCEL_WHILE_QUEUED) {
                endedAt = cancel(script, rnd, end, queuedAt, wait, jobId, userId);
            } else if (outcome == LifecycleEventType.FAILED && rnd.nextDouble() < REJECTION_SHARE) {
                endedAt = queuedAt + Math.max(1, Math.round(Randoms.lognormal(rnd, 3_000, 0.5)));
                reject(rnd, end);
                script.lifecycle(LifecycleEventType.FAILED, endedAt, userId, submitCorrelation, bridge,
                        new FailedDetails(end.errorCode, end.errorMessage, end.exitCode, end.retryable));
            } else {
                ran = true;
                int nodes = (cores + system.coresPerNode() - 1) / system.coresPerNode();
                script.lifecycle(LifecycleEventType.RUNNING, startedAt, userId, submitCorrelation, bridge,
                        new RunningDetails(nodes));
                if (outcome == LifecycleEventType.CANCELLED) {
                    endedAt = cancel(script, rnd, end, startedAt, cappedRun, jobId, userId);
                } else if (outcome == LifecycleEventType.FAILED) {
                    long run = failWhileRunning(rnd, end, cappedRun, walltime, memory);
                    endedAt = startedAt + run;
                    script.lifecycle(LifecycleEventType.FAILED, endedAt, userId, submitCorrelation, bridge,
                            new FailedDetails(end.errorCode, end.errorMessage, end.exitCode, end.retryable));
                } else {
                    endedAt = startedAt + cappedRun;
                    end.exitCode = 0;
                    end.executionTimeMs = cappedRun;
                    end.outputRef = "s3://cosmic-horizons-products/" + pipeline + "/" + jobId + "/";
                    script.lifecycle(LifecycleEventType.COMPLETED, endedAt, userId, submitCorrelation, bridge,
                            new CompletedDetails(cappedRun, 0, end.outputRef));
                }
            }
        }

        if (outcome == LifecycleEventType.COMPLETED && rnd.nextDouble() < DATASET_DOWNLOAD_SHARE) {
            long at = endedAt + Math.max(1, Math.min(DAY, Math.round(Randoms.lognormal(rnd, 10 * MINUTE, 1.0))));
            script.audit(at, userId, "dataset.download", "dataset", "products/" + jobId, AuditOutcome.SUCCESS,
                    Randoms.uuid(rnd), Map.of("job_id", jobId, "output_ref", end.outputRef));
        }
        if (rnd.nextDouble() < MEMBER_ADD_SHARE) {
            long at = submittedAt + (long) (rnd.nextDouble() * 30 * MINUTE);
            int userIndex = Integer.parseInt(userId.substring("user-".length()));
            script.audit(at, userId, "project.member.add", "project", String.format("project-%02d", userIndex % 12),
                    rnd.nextDouble() < 0.15 ? AuditOutcome.DENIED : AuditOutcome.SUCCESS, Randoms.uuid(rnd),
                    Map.of("member", userId(rnd.nextInt(config.users())), "role", "collaborator"));
        }

        MetricsSeries metrics = null;
        if (ran) {
            metrics = new MetricsSeries(Randoms.stream(config.seed(), Randoms.METRICS, index), topics.metrics(), jobId,
                    submitCorrelation, startedAt, endedAt, metricsIntervalMs, cores, memory, queue.name().equals("gpu"),
                    "OUT_OF_MEMORY".equals(end.errorCode));
        }
        GroundTruth.Job truth = new GroundTruth.Job(jobId, userId, system.name(), queue.name(), pipeline, cores, memory,
                walltime, hpcJobId, outcome, end.exitCode, end.errorCode, end.errorMessage, end.retryable,
                end.executionTimeMs, end.outputRef, end.cancelReason, end.cancelledBy, script.steps,
                metrics == null ? 0 : metrics.count());
        return new SimulatedJob(index, truth, script.finish(), metrics);
    }

    private LifecycleEventType outcome(Random rnd) {
        GeneratorConfig.OutcomeMix mix = config.outcomes();
        return switch (Randoms.weighted(rnd, mix.completed(), mix.failed(), mix.cancelled())) {
            case 0 -> LifecycleEventType.COMPLETED;
            case 1 -> LifecycleEventType.FAILED;
            default -> LifecycleEventType.CANCELLED;
        };
    }

    /** Some users submit far more than others, as on a real platform. */
    private int skewedUser(Random rnd) {
        double u = rnd.nextDouble();
        return Math.min(config.users() - 1, (int) (config.users() * u * u));
    }

    static String userId(int index) {
        return String.format("user-%04d", index);
    }

    /**
     * Cancels the job some time into the phase that began at {@code phaseStart} and would have lasted
     * {@code phaseLength}: the user (or an admin, or the system) asks, the audit trail records the request, and the
     * CANCELLED event follows shortly.
     */
    private long cancel(Script script, Random rnd, JobOutcome end, long phaseStart, long phaseLength, String jobId,
            String userId) {
        long requestedAt = phaseStart + 1 + (long) (rnd.nextDouble() * Math.max(0, phaseLength - 2));
        switch (Randoms.weighted(rnd, 0.75, 0.15, 0.10)) {
            case 0 -> {
                end.cancelledBy = userId;
                end.cancelReason = "Cancelled by the owner";
            }
            case 1 -> {
                end.cancelledBy = "admin-ops";
                end.cancelReason = "Cancelled by an administrator: project allocation exhausted";
            }
            default -> {
                end.cancelledBy = "system";
                end.cancelReason = "Cancelled for a maintenance reservation";
            }
        }
        String correlation = Randoms.uuid(rnd);
        script.audit(requestedAt, end.cancelledBy, "job.cancel", "job", jobId, AuditOutcome.SUCCESS, correlation,
                Map.of("reason", end.cancelReason));
        long cancelledAt = requestedAt + Math.max(1, Math.round(Randoms.lognormal(rnd, 500, 0.5)));
        script.lifecycle(LifecycleEventType.CANCELLED, cancelledAt, userId, correlation, ORCHESTRATOR,
                new CancelledDetails(end.cancelReason, end.cancelledBy));
        return cancelledAt;
    }

    private static void reject(Random rnd, JobOutcome end) {
        end.exitCode = -1;
        switch (rnd.nextInt(3)) {
            case 0 -> {
                end.errorCode = "QOSMaxCpuPerUserLimit";
                end.errorMessage = "Job violates the QOS limit on CPUs per user";
                end.retryable = true;
            }
            case 1 -> {
                end.errorCode = "InvalidAccount";
                end.errorMessage = "Invalid account or account/partition combination specified";
                end.retryable = false;
            }
            default -> {
                end.errorCode = "PartitionTimeLimit";
                end.errorMessage = "Requested time limit exceeds the partition's maximum";
                end.retryable = false;
            }
        }
    }

    /** Decides how a running job fails; returns how long it ran. */
    private static long failWhileRunning(Random rnd, JobOutcome end, long cappedRun, long walltime, long memory) {
        switch (Randoms.weighted(rnd, 0.45, 0.30, 0.15, 0.10)) {
            case 0 -> {
                end.exitCode = new int[] {1, 2, 3, 127, 255}[rnd.nextInt(5)];
                end.errorCode = "NonZeroExitCode";
                end.errorMessage = "Process exited with code " + end.exitCode;
                end.retryable = false;
                return Math.max(1, (long) (cappedRun * Randoms.uniform(rnd, 0.05, 0.9)));
            }
            case 1 -> {
                end.exitCode = 137;
                end.errorCode = "OUT_OF_MEMORY";
                end.errorMessage = "Killed by the OOM killer: memory use exceeded the requested " + (memory >> 30) + " GiB";
                end.retryable = false;
                return Math.max(1, (long) (cappedRun * Randoms.uniform(rnd, 0.3, 1.0)));
            }
            case 2 -> {
                // Slurm reports a job killed at its time limit with exit code 0 and signal 15.
                end.exitCode = 0;
                end.errorCode = "TIMEOUT";
                end.errorMessage = "Job reached its time limit of " + walltime / 60_000 + " minutes";
                end.retryable = false;
                return walltime;
            }
            default -> {
                end.exitCode = 1;
                end.errorCode = "NODE_FAIL";
                end.errorMessage = "A node allocated to the job failed";
                end.retryable = true;
                return Math.max(1, (long) (cappedRun * rnd.nextDouble()));
            }
        }
    }

    /** The terminal details as they are decided; fields that do not apply stay null. */
    private static final class JobOutcome {
        Integer exitCode;
        String errorCode;
        String errorMessage;
        Boolean retryable;
        Long executionTimeMs;
        String outputRef;
        String cancelReason;
        String cancelledBy;
    }

    /** Collects a job's scripted events and its lifecycle steps. */
    private final class Script {
        private final Random rnd;
        private final String jobId;
        private final List<TimelineEvent> events = new ArrayList<>();
        private final List<GroundTruth.Step> steps = new ArrayList<>();

        Script(Random rnd, String jobId) {
            this.rnd = rnd;
            this.jobId = jobId;
        }

        void lifecycle(LifecycleEventType type, long at, String userId, String correlationId,
                String producer, Object details) {
            String eventId = Randoms.uuid(rnd);
            JobLifecycleEvent event = new JobLifecycleEvent(eventId, type, jobId, userId, correlationId,
                    Instant.ofEpochMilli(at), producer, details);
            steps.add(new GroundTruth.Step(eventId, type, at, correlationId));
            events.add(new TimelineEvent(at, new PlannedRecord.ValidEvent(topics.lifecycle(), event, correlationId),
                    jobId, true, -1));
        }

        void audit(long at, String actor, String action, String resourceType, String resourceId, AuditOutcome outcome,
                String correlationId, Map<String, String> details) {
            AuditTrailEvent event = new AuditTrailEvent(Randoms.uuid(rnd), actor, action, resourceType, resourceId,
                    outcome, details, Instant.ofEpochMilli(at), correlationId);
            events.add(new TimelineEvent(at, new PlannedRecord.ValidEvent(topics.auditTrail(), event, correlationId),
                    jobId, false, -1));
        }

        /** The events in time order (stable, so a step precedes its audit record at the same instant), with gaps. */
        List<TimelineEvent> finish() {
            events.sort(Comparator.comparingLong(TimelineEvent::time));
            List<TimelineEvent> result = new ArrayList<>(events.size());
            int step = 0;
            for (TimelineEvent e : events) {
                if (e.lifecycle()) {
                    step++;
                    long gap = step < steps.size() ? steps.get(step).occurredAt() - e.time() : -1;
                    result.add(new TimelineEvent(e.time(), e.record(), e.jobId(), true, gap));
                } else {
                    result.add(e);
                }
            }
            return result;
        }
    }
}
