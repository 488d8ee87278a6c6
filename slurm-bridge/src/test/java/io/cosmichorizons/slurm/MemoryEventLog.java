package io.cosmichorizons.slurm;

import io.cosmichorizons.events.JobLifecycleEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A one-partition topic in memory. It can lose acknowledgements: {@link #storeButFailAfter} keeps the first n events
 * of the next publication and fails every send, as a bridge killed between sending and the acknowledgement sees it.
 */
final class MemoryEventLog implements EventLog {
    final List<JobLifecycleEvent> stored = new ArrayList<>();
    private int storeThenFail = -1;
    private boolean down;

    /** The next sends: the first {@code n} are stored, all of them fail. */
    synchronized void storeButFailAfter(int n) {
        storeThenFail = n;
    }

    synchronized void down(boolean down) {
        this.down = down;
    }

    @Override
    public String topic() {
        return "memory.job-lifecycle";
    }

    @Override
    public synchronized CompletableFuture<?> publish(JobLifecycleEvent event) {
        if (down) {
            return CompletableFuture.failedFuture(new IllegalStateException("broker unreachable"));
        }
        if (storeThenFail >= 0) {
            if (storeThenFail > 0) {
                stored.add(event);
                storeThenFail--;
            }
            return CompletableFuture.failedFuture(new IllegalStateException("acknowledgement lost"));
        }
        stored.add(event);
        return CompletableFuture.completedFuture(null);
    }

    synchronized void healed() {
        storeThenFail = -1;
    }

    @Override
    public void flush() {}

    @Override
    public synchronized Map<Integer, Long> endOffsets() {
        if (down) {
            throw new IllegalStateException("broker unreachable");
        }
        return Map.of(0, (long) stored.size());
    }

    @Override
    public synchronized Set<String> find(Map<Integer, Long> from, Collection<String> eventIds) {
        if (down) {
            throw new IllegalStateException("broker unreachable");
        }
        Set<String> found = new HashSet<>();
        for (int i = from.getOrDefault(0, 0L).intValue(); i < stored.size(); i++) {
            if (eventIds.contains(stored.get(i).getEventId())) {
                found.add(stored.get(i).getEventId());
            }
        }
        return found;
    }

    synchronized List<JobLifecycleEvent> of(String jobId) {
        return stored.stream().filter(e -> e.getJobId().equals(jobId)).toList();
    }

    @Override
    public void close() {}
}
