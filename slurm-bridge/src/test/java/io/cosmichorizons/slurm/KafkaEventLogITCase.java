package io.cosmichorizons.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The journal's look-back against a real broker: a publication cut off after some sends is completed, not repeated. */
@ExtendWith(RealServices.class)
class KafkaEventLogITCase {
    @TempDir
    Path dir;

    @Test
    void aBridgeKilledMidPublicationSendsOnlyTheEventsThatDidNotArrive() throws Exception {
        String prefix = RealServices.uniqueName("slurm-log") + ".";
        TopicNames topics = TopicNames.defaults().withPrefix(prefix);
        RealServices.createTopic(topics.lifecycle(), Topics.INPUT_PARTITIONS);
        SlurmBridge.Config config = SlurmBridge.Config.of("kt", Duration.ofMillis(100), dir.resolve("state.json"), null);
        FakeSlurm slurm = new FakeSlurm();
        slurm.set(TestJobs.ended("1", SlurmState.COMPLETED, TestJobs.T0 + 1, TestJobs.T0 + 2, 0, 0));
        slurm.set(TestJobs.ended("2", SlurmState.FAILED, TestJobs.T0 + 1, TestJobs.T0 + 2, 7, 0));

        // The first process gets 5 of its 8 events onto the topic and dies before it hears back.
        try (KafkaEventLog kafka = log(config, topics)) {
            EventLog dying = new CutOff(kafka, 5);
            SlurmBridge first = new SlurmBridge(config, slurm, dying);
            assertThrows(EventLogException.class, first::pollOnce);
        }
        assertEquals(5, read(topics).size());

        try (KafkaEventLog kafka = log(config, topics)) {
            SlurmBridge restarted = new SlurmBridge(config, slurm, kafka);
            assertEquals(3, restarted.pollOnce().republished());
            assertEquals(0, restarted.pollOnce().published());
        }
        List<JobLifecycleEvent> events = read(topics);
        assertEquals(8, events.size());
        assertEquals(8, events.stream().map(JobLifecycleEvent::getEventId).distinct().count());
        for (String job : List.of("slurm:kt:1", "slurm:kt:2")) {
            assertEquals(4, events.stream().filter(e -> e.getJobId().equals(job)).count(), job);
        }
        assertEquals(List.of(LifecycleEventType.SUBMITTED, LifecycleEventType.QUEUED, LifecycleEventType.RUNNING,
                LifecycleEventType.FAILED), events.stream().filter(e -> e.getJobId().equals("slurm:kt:2"))
                .map(JobLifecycleEvent::getEventType).toList(), "one job is one partition: its order is kept");
    }

    private static KafkaEventLog log(SlurmBridge.Config config, TopicNames topics) {
        return new KafkaEventLog(SlurmBridgeMain.publisher(config, RealServices.bootstrapServers(), topics, WireFormat.AVRO),
                RealServices.bootstrapServers(), Duration.ofSeconds(30));
    }

    private static List<JobLifecycleEvent> read(TopicNames topics) {
        // Partition by partition, each in offset order: a job's events in the order they were stored.
        return TopicReader.readAll(RealServices.bootstrapServers(), topics.lifecycle()).stream()
                .map(r -> {
                    try {
                        return AvroCodec.decode(r.value(), JobLifecycleEvent.class, JobLifecycleEvent.getClassSchema());
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }).toList();
    }

    /** Forwards the first {@code n} events to Kafka and waits for them; every send fails, as for a process that died. */
    private static final class CutOff implements EventLog {
        private final KafkaEventLog kafka;
        private final AtomicInteger left;

        CutOff(KafkaEventLog kafka, int n) {
            this.kafka = kafka;
            this.left = new AtomicInteger(n);
        }

        @Override
        public String topic() {
            return kafka.topic();
        }

        @Override
        public CompletableFuture<?> publish(JobLifecycleEvent event) {
            if (left.getAndDecrement() > 0) {
                kafka.publish(event).join();
            }
            return CompletableFuture.failedFuture(new IllegalStateException("killed before the acknowledgement"));
        }

        @Override
        public void flush() {
            kafka.flush();
        }

        @Override
        public Map<Integer, Long> endOffsets() {
            return kafka.endOffsets();
        }

        @Override
        public Set<String> find(Map<Integer, Long> from, Collection<String> eventIds) {
            return kafka.find(from, eventIds);
        }

        @Override
        public void close() {}
    }
}
