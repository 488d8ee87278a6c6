package io.cosmichorizons.slurm;

/**
 * What one source said about one Slurm job (or one array task) at one moment: a row of {@code squeue --json}, or a
 * record a slurmctld hook appended to the spool. Times are Slurm's, in epoch seconds; 0 means unknown.
 *
 * @param key the job as Slurm names it: {@code 1234}, or {@code 1234_7} for task 7 of array job 1234
 * @param submission the id of the sbatch request the job came from (the array job id for array tasks)
 * @param user the Slurm user that owns the job
 * @param name the job name (sbatch -J)
 * @param partition the partition the job was submitted to
 * @param comment the job's comment (sbatch --comment), or null
 * @param state the state, with Slurm's state flags resolved as squeue shows them
 * @param reason Slurm's reason (why pending, why failed), or null
 * @param ran whether the job ever held an allocation (so a RUNNING step belongs in its lifecycle)
 * @param nodeCount nodes allocated, or requested while pending
 * @param cpus CPUs requested
 * @param memoryBytes memory requested in bytes, 0 when unknown
 * @param timeLimitMinutes wall-clock limit in minutes, or null when unlimited or unknown
 * @param exitCode the exit status (Slurm ExitCode, first part), or -1 when unknown
 * @param signal the signal that ended the job (Slurm ExitCode, second part), 0 for none
 * @param restarts how often the job was requeued
 * @param queuePosition 0-based rank among the partition's pending jobs (by priority), or 0 when unknown
 * @param outputRef where the job's output goes (its StdOut path), or null
 * @param source which source reported this
 */
public record SlurmJob(
        String key,
        String submission,
        String user,
        String name,
        String partition,
        String comment,
        SlurmState state,
        String reason,
        long submitTime,
        long startTime,
        long endTime,
        boolean ran,
        int nodeCount,
        int cpus,
        long memoryBytes,
        Long timeLimitMinutes,
        int exitCode,
        int signal,
        int restarts,
        int queuePosition,
        String outputRef,
        Source source) {

    /** Where an observation came from. */
    public enum Source {
        /** A row of {@code squeue --json}: the authoritative, complete view while the job is listed. */
        SQUEUE,
        /** PrologSlurmctld: the job is starting. */
        PROLOG,
        /** EpilogSlurmctld: the job ended, with its exit code but without its state. */
        EPILOG,
        /** jobcomp/script: the job ended, with its final state, times and exit code. */
        JOBCOMP
    }

    /** Slurm's ExitCode notation, {@code exit:signal}. */
    public String exitCodeText() {
        return (exitCode < 0 ? "?" : Integer.toString(exitCode)) + ":" + signal;
    }

    /** The same observation with the queue position set. */
    public SlurmJob withQueuePosition(int position) {
        return new SlurmJob(key, submission, user, name, partition, comment, state, reason, submitTime, startTime,
                endTime, ran, nodeCount, cpus, memoryBytes, timeLimitMinutes, exitCode, signal, restarts, position,
                outputRef, source);
    }

    /**
     * Combines two hook records of the same job: the state and end of the later phase win, fields the newer one lacks
     * come from the older one.
     */
    public SlurmJob mergedWith(SlurmJob newer) {
        SlurmJob base = rank(newer) >= rank(this) ? newer : this;
        SlurmJob other = base == newer ? this : newer;
        return new SlurmJob(key, first(base.submission, other.submission), first(base.user, other.user),
                first(base.name, other.name), first(base.partition, other.partition), first(base.comment, other.comment),
                base.state, first(base.reason, other.reason), min(base.submitTime, other.submitTime),
                base.startTime != 0 ? base.startTime : other.startTime, base.endTime != 0 ? base.endTime : other.endTime,
                base.ran || other.ran, Math.max(base.nodeCount, other.nodeCount), Math.max(base.cpus, other.cpus),
                Math.max(base.memoryBytes, other.memoryBytes),
                base.timeLimitMinutes != null ? base.timeLimitMinutes : other.timeLimitMinutes,
                base.exitCode >= 0 ? base.exitCode : other.exitCode, base.exitCode >= 0 ? base.signal : other.signal,
                Math.max(base.restarts, other.restarts), base.queuePosition, first(base.outputRef, other.outputRef),
                base.source);
    }

    /** How far along a record is: a final state beats an epilog, which beats a start, which beats a pending row. */
    private static int rank(SlurmJob j) {
        if (j.state.phase() == SlurmState.Phase.ENDED) {
            return 3;
        }
        if (j.source == Source.EPILOG) {
            return 2;
        }
        return j.state.phase() == SlurmState.Phase.RUNNING ? 1 : 0;
    }

    private static String first(String a, String b) {
        return a != null && !a.isBlank() ? a : b;
    }

    private static long min(long a, long b) {
        if (a == 0) {
            return b;
        }
        return b == 0 ? a : Math.min(a, b);
    }
}
