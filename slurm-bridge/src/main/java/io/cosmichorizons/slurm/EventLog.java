package io.cosmichorizons.slurm;

import io.cosmichorizons.events.JobLifecycleEvent;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Where the bridge's events go, and how it looks back at them after a crash. {@link KafkaEventLog} is the topic via
 * the publisher library; unit tests use an in-memory log that can be made to fail.
 */
public interface EventLog extends AutoCloseable {

    /** The topic's name, for the journal and the log. */
    String topic();

    /** Sends one event; the future completes when it is durably stored, or fails. */
    CompletableFuture<?> publish(JobLifecycleEvent event);

    /** Pushes out everything sent so far. */
    void flush();

    /** The current end offset of every partition (partition -> next offset). */
    Map<Integer, Long> endOffsets() throws Exception;

    /** Which of {@code eventIds} are stored at or after {@code from} (partition -> offset). */
    Set<String> find(Map<Integer, Long> from, Collection<String> eventIds) throws Exception;

    @Override
    void close();
}
