package io.cosmichorizons.slurm;

import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns what Slurm says about a job into the lifecycle events still missing for it. Pure: the output depends only on
 * the observation and on what was already published.
 *
 * <ul>
 *   <li>Identity: job_id {@code slurm:<cluster>:<key>}; event_id a name-based UUID of (cluster, key, step), so a
 *       step published twice carries the same id and downstream drops the copy.
 *   <li>The steps a state implies are all published, in order: a job first seen COMPLETED gets SUBMITTED, QUEUED,
 *       RUNNING and COMPLETED. Steps the bridge did not see itself are <em>synthesised</em>: their producer is
 *       {@code slurm-bridge:<cluster>:synthesized}; their times are still Slurm's.
 *   <li>Times: SUBMITTED at Slurm's submit time, QUEUED at submit time too, RUNNING at start time, the end at end
 *       time, each moved 1 ms past the step before it where Slurm's whole seconds coincide, so a job's steps are
 *       strictly ordered.
 * </ul>
 */
public final class LifecycleSteps {
    /** {@code sbatch --comment=corr:<id>} (the comment may hold other words too). */
    private static final Pattern CORRELATION = Pattern.compile("(?:^|[\\s,;])corr:([^\\s,;]+)");
    static final String UNKNOWN_CANCELLER = "unknown";
    /** SubmittedDetails requires a positive size; a job seen only through its jobcomp record has none. */
    static final long UNKNOWN_MEMORY_BYTES = 1;
    /**
     * The walltime of a job without a limit: 365 days, as Slurm itself reports the limit of a job in an unlimited
     * partition. Not Long.MAX_VALUE: consumers add grace periods to it.
     */
    static final long UNLIMITED_WALLTIME_MS = Duration.ofDays(365).toMillis();

    private final String cluster;
    private final String producer;
    private final String synthesizedProducer;

    public LifecycleSteps(String cluster) {
        this.cluster = cluster;
        this.producer = "slurm-bridge:" + cluster;
        this.synthesizedProducer = producer + ":synthesized";
    }

    public String producer() {
        return producer;
    }

    public String synthesizedProducer() {
        return synthesizedProducer;
    }

    /** The platform's job_id of a Slurm job. */
    public String jobId(String key) {
        return "slurm:" + cluster + ":" + key;
    }

    /** The Slurm key of one of our job_ids, or null when it is not one of this cluster's. */
    public String keyOf(String jobId) {
        String prefix = "slurm:" + cluster + ":";
        return jobId.startsWith(prefix) ? jobId.substring(prefix.length()) : null;
    }

    /** The deterministic event id of one step of one job. */
    public String eventId(String key, LifecycleEventType step) {
        return UUID.nameUUIDFromBytes(("slurm-bridge\u0000" + cluster + "\u0000" + key + "\u0000" + step)
                .getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** corr:<id> from the comment, else {@code slurm:<cluster>:<sbatch id>} (all tasks of an array share it). */
    public String correlationId(SlurmJob job) {
        if (job.comment() != null) {
            Matcher m = CORRELATION.matcher(job.comment());
            if (m.find()) {
                return m.group(1);
            }
        }
        return "slurm:" + cluster + ":" + job.submission();
    }

    /** The lifecycle steps an observation implies, in order. */
    static List<LifecycleEventType> stepsImplied(SlurmJob job) {
        List<LifecycleEventType> steps = new ArrayList<>();
        SlurmState.Phase phase = job.state().phase();
        if (phase == SlurmState.Phase.UNKNOWN) {
            return steps;
        }
        steps.add(LifecycleEventType.SUBMITTED);
        steps.add(LifecycleEventType.QUEUED);
        LifecycleEventType terminal = job.state().terminalType();
        boolean running = phase == SlurmState.Phase.RUNNING
                || (phase == SlurmState.Phase.ENDING && job.ran())
                || (phase == SlurmState.Phase.ENDED && (job.ran() || terminal == LifecycleEventType.COMPLETED));
        if (running) {
            steps.add(LifecycleEventType.RUNNING);
        }
        if (phase == SlurmState.Phase.ENDED) {
            steps.add(terminal);
        }
        return steps;
    }

    /** The step the source saw directly (the others it implies are synthesised), or null. */
    private static LifecycleEventType observedStep(SlurmJob job, boolean inferred) {
        if (inferred) {
            return null;
        }
        return switch (job.state().phase()) {
            case QUEUED -> LifecycleEventType.QUEUED;
            case RUNNING -> LifecycleEventType.RUNNING;
            case ENDED -> job.state().terminalType();
            default -> null;
        };
    }

    /**
     * The events still missing for {@code job}, given what {@code tracked} says was published. Fixes the job's user and
     * correlation id in {@code tracked} on its first event; does not mark anything published.
     *
     * @param inferred the observation's state is the bridge's inference (an epilog record without a state), so even
     *     the terminal step is flagged as synthesised
     * @param cancelledBy who cancelled a job, when Slurm knows
     */
    List<JobLifecycleEvent> missingEvents(BridgeState.TrackedJob tracked, SlurmJob job, boolean inferred,
            Function<String, Optional<String>> cancelledBy) {
        List<JobLifecycleEvent> events = new ArrayList<>();
        if (tracked.ended || tracked.rejected) {
            return events;
        }
        if (tracked.user == null) {
            tracked.user = job.user() == null || job.user().isBlank() ? "unknown" : job.user();
        }
        if (tracked.correlationId == null) {
            tracked.correlationId = correlationId(job);
        }
        LifecycleEventType observed = observedStep(job, inferred);
        long last = tracked.published.isEmpty() ? Long.MIN_VALUE : tracked.lastEventAt;
        for (LifecycleEventType step : stepsImplied(job)) {
            if (tracked.published.contains(step.name())) {
                continue;
            }
            long at = Math.max(slurmTime(job, step, last), last == Long.MIN_VALUE ? Long.MIN_VALUE : last + 1);
            last = at;
            boolean synthesized = step != LifecycleEventType.SUBMITTED && step != observed;
            events.add(new JobLifecycleEvent(eventId(job.key(), step), step, jobId(job.key()), tracked.user,
                    tracked.correlationId, Instant.ofEpochMilli(at), synthesized ? synthesizedProducer : producer,
                    details(job, step, step == observed, cancelledBy)));
        }
        return events;
    }

    /** Slurm's time for a step in epoch ms; a step Slurm has no time for follows the one before it. */
    private static long slurmTime(SlurmJob job, LifecycleEventType step, long previous) {
        long seconds = switch (step) {
            case SUBMITTED, QUEUED -> job.submitTime();
            case RUNNING -> job.startTime();
            default -> job.endTime();
        };
        if (seconds <= 0 && step == LifecycleEventType.SUBMITTED) {
            // Known only from a hook record without a submit time: the earliest time the record has.
            seconds = job.startTime() > 0 ? job.startTime() : job.endTime();
        }
        if (seconds <= 0) {
            return previous == Long.MIN_VALUE ? System.currentTimeMillis() : previous + 1;
        }
        return seconds * 1000;
    }

    private SpecificRecord details(SlurmJob job, LifecycleEventType step, boolean observed,
            Function<String, Optional<String>> cancelledBy) {
        return switch (step) {
            case SUBMITTED -> new SubmittedDetails(
                    job.name() == null ? "slurm-batch" : job.name(),
                    cluster,
                    job.partition() == null ? "default" : job.partition(),
                    Math.max(1, job.cpus()),
                    job.memoryBytes() > 0 ? job.memoryBytes() : UNKNOWN_MEMORY_BYTES,
                    job.timeLimitMinutes() == null ? UNLIMITED_WALLTIME_MS
                            : Math.min(job.timeLimitMinutes(), Integer.MAX_VALUE) * 60_000L);
            case QUEUED -> new QueuedDetails(job.key(), observed ? job.queuePosition() : 0,
                    observed ? meaningfulReason(job.reason()) : null);
            case RUNNING -> new RunningDetails(Math.max(1, job.nodeCount()));
            case COMPLETED -> new CompletedDetails(executionMillis(job), Math.max(0, job.exitCode()),
                    job.outputRef() == null ? jobId(job.key()) : job.outputRef());
            case FAILED -> failed(job);
            case CANCELLED -> cancelled(job, cancelledBy);
        };
    }

    private static FailedDetails failed(SlurmJob job) {
        SlurmState state = job.state() == SlurmState.COMPLETING ? SlurmState.FAILED : job.state();
        String reason = meaningfulReason(job.reason());
        StringBuilder message = new StringBuilder();
        if (state == SlurmState.TIMEOUT) {
            message.append("Time limit of ").append(formatLimit(job.timeLimitMinutes())).append(" reached");
        } else {
            message.append("Slurm state ").append(state.name());
            if (reason != null) {
                message.append(", reason ").append(reason);
            }
        }
        message.append("; ExitCode ").append(job.exitCodeText());
        if (job.restarts() > 0) {
            message.append("; after ").append(job.restarts()).append(job.restarts() == 1 ? " requeue" : " requeues");
        }
        boolean retryable = state == SlurmState.NODE_FAIL || state == SlurmState.BOOT_FAIL
                || state == SlurmState.PREEMPTED || "JobLaunchFailure".equals(reason)
                || "launch_failed_requeued_held".equalsIgnoreCase(reason);
        return new FailedDetails(state.name(), message.toString(), job.ran() ? job.exitCode() : -1, retryable);
    }

    private static CancelledDetails cancelled(SlurmJob job, Function<String, Optional<String>> cancelledBy) {
        if (job.state() == SlurmState.REVOKED) {
            return new CancelledDetails("Revoked: a federated sibling cluster runs the job", "system");
        }
        String reason = meaningfulReason(job.reason());
        String why = (job.ran() ? "Cancelled while running" : "Cancelled while pending")
                + (reason != null && !job.ran() ? " (" + reason + ")" : "");
        return new CancelledDetails(why, cancelledBy.apply(job.key()).orElse(UNKNOWN_CANCELLER));
    }

    private static long executionMillis(SlurmJob job) {
        if (job.startTime() > 0 && job.endTime() >= job.startTime()) {
            return (job.endTime() - job.startTime()) * 1000;
        }
        return 0;
    }

    private static String meaningfulReason(String reason) {
        return reason == null || reason.isBlank() || reason.equals("None") ? null : reason;
    }

    /** Minutes as Slurm prints limits: {@code [D-]HH:MM:SS}. */
    static String formatLimit(Long minutes) {
        if (minutes == null) {
            return "UNLIMITED";
        }
        long days = minutes / 1440;
        long h = (minutes % 1440) / 60;
        long m = minutes % 60;
        return (days > 0 ? days + "-" : "") + String.format("%02d:%02d:00", h, m);
    }
}
