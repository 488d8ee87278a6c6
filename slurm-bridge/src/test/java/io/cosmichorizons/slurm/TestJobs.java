package io.cosmichorizons.slurm;

/** Observations for unit tests: what squeue would list about a job in a given state. */
final class TestJobs {
    static final long T0 = System.currentTimeMillis() / 1000 - 600;

    private TestJobs() {}

    static SlurmJob pending(String key) {
        return job(key, SlurmState.PENDING, "Priority", 0, 0, false, -1, 0);
    }

    static SlurmJob running(String key, long start) {
        return job(key, SlurmState.RUNNING, "None", start, 0, true, -1, 0);
    }

    static SlurmJob ended(String key, SlurmState state, long start, long end, int exit, int signal) {
        return job(key, state, state == SlurmState.FAILED ? "NonZeroExitCode" : "None", start, end, start > 0, exit, signal);
    }

    static SlurmJob job(String key, SlurmState state, String reason, long start, long end, boolean ran, int exit,
            int signal) {
        String submission = key.contains("_") ? key.substring(0, key.indexOf('_')) : key;
        return new SlurmJob(key, submission, "alice", "imaging", "debug", null, state, reason, T0, start, end, ran,
                1, 4, 8L << 30, 60L, exit, signal, 0, 0, "/home/alice/slurm-" + key + ".out", SlurmJob.Source.SQUEUE);
    }

    static SlurmJob withComment(SlurmJob j, String comment) {
        return new SlurmJob(j.key(), j.submission(), j.user(), j.name(), j.partition(), comment, j.state(), j.reason(),
                j.submitTime(), j.startTime(), j.endTime(), j.ran(), j.nodeCount(), j.cpus(), j.memoryBytes(),
                j.timeLimitMinutes(), j.exitCode(), j.signal(), j.restarts(), j.queuePosition(), j.outputRef(), j.source());
    }

    static SlurmJob withRestarts(SlurmJob j, int restarts) {
        return new SlurmJob(j.key(), j.submission(), j.user(), j.name(), j.partition(), j.comment(), j.state(), j.reason(),
                j.submitTime(), j.startTime(), j.endTime(), j.ran(), j.nodeCount(), j.cpus(), j.memoryBytes(),
                j.timeLimitMinutes(), j.exitCode(), j.signal(), restarts, j.queuePosition(), j.outputRef(), j.source());
    }
}
