package io.cosmichorizons.bench;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Consumer lag of consumer groups: the read_committed end offsets of their input topics minus the offsets the group
 * committed. The Flink jobs commit their offsets when a checkpoint completes, which is also when their transactional
 * outputs commit and after their JDBC sinks have flushed, so a lag of zero means every output of those records is
 * committed.
 */
final class Lag {
    private final Admin admin;
    /** group -> its input topics */
    private final Map<String, List<String>> groups;
    private final Map<String, Integer> partitions = new HashMap<>();

    Lag(Admin admin, Map<String, List<String>> groups) throws Exception {
        this.admin = admin;
        this.groups = new LinkedHashMap<>(groups);
        for (List<String> topics : groups.values()) {
            for (var d : admin.describeTopics(topics).allTopicNames().get().values()) {
                partitions.put(d.name(), d.partitions().size());
            }
        }
    }

    /** Committed progress of each group: records consumed (committed) and lag, summed over its topics' partitions. */
    record Progress(long committed, long lag) {}

    Map<String, Progress> progress() throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach((topic, n) -> {
            for (int p = 0; p < n; p++) {
                request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
        });
        var ends = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
        Map<String, Progress> out = new LinkedHashMap<>();
        for (var g : groups.entrySet()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(g.getKey()).partitionsToOffsetAndMetadata().get();
            long done = 0;
            long lag = 0;
            for (String topic : g.getValue()) {
                for (int p = 0; p < partitions.get(topic); p++) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    OffsetAndMetadata c = committed.get(tp);
                    long at = c == null ? 0 : c.offset();
                    long end = ends.get(tp).offset();
                    done += at;
                    lag += Math.max(0, end - at);
                }
            }
            out.put(g.getKey(), new Progress(done, lag));
        }
        return out;
    }

    /** Records in {@code topics} (read_committed end offsets summed). */
    static long records(Admin admin, List<String> topics) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (var d : admin.describeTopics(topics).allTopicNames().get().values()) {
            d.partitions().forEach(p -> request.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest()));
        }
        return admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get()
                .values().stream().mapToLong(i -> i.offset()).sum();
    }
}
