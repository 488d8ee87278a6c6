package io.cosmichorizons.slurm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A scripted Slurm: the test sets what squeue lists, or makes slurmctld unreachable. */
final class FakeSlurm implements Slurm {
    private final Map<String, SlurmJob> jobs = new LinkedHashMap<>();
    private final Map<String, String> cancellers = new LinkedHashMap<>();
    private volatile String unreachable;
    int queries;

    synchronized FakeSlurm set(SlurmJob job) {
        jobs.put(job.key(), job);
        return this;
    }

    synchronized FakeSlurm forget(String key) {
        jobs.remove(key);
        return this;
    }

    synchronized FakeSlurm cancelledBy(String key, String who) {
        cancellers.put(key, who);
        return this;
    }

    void unreachable(String why) {
        unreachable = why;
    }

    @Override
    public synchronized List<SlurmJob> queue() throws SlurmUnavailableException {
        queries++;
        if (unreachable != null) {
            throw new SlurmUnavailableException(unreachable);
        }
        return new ArrayList<>(jobs.values());
    }

    @Override
    public synchronized Optional<String> cancelledBy(String jobKey) {
        return Optional.ofNullable(cancellers.get(jobKey));
    }
}
