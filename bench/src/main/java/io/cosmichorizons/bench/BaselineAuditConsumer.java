package io.cosmichorizons.bench;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.internal.AuditChainState;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerWriter;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The baseline: a plain, hand-written, single-threaded KafkaConsumer that writes the audit ledger to PostgreSQL.
 * Per poll it decodes the records (the jobs' decoder), appends each accepted event to its chain (one chain per
 * input partition, the audit job's design and code: {@link AuditEntries}), inserts the entries in one JDBC batch
 * ({@link LedgerWriter}: the audit job's statement and table), commits the database transaction and then the
 * offsets: at-least-once. Rejected records are counted, not dead-lettered; re-published events are skipped by the
 * same per-chain window of recent event ids as the audit job. No Flink, no checkpoints, no state backend.
 */
final class BaselineAuditConsumer {
    private BaselineAuditConsumer() {}

    /** What it did; {@code samples} are (seconds, records consumed and committed) pairs. */
    record Result(long records, long entries, long rejected, long duplicates, double seconds, List<double[]> samples) {
        double rate() {
            return records / seconds;
        }

        /** Records per second between 10 % and 90 % of the input, measured as for the Flink jobs. */
        double sustained() {
            return PipelineDrain.sustained(samples.stream().map(s -> new double[] {s[0], s[1] / records}).toList(), records);
        }
    }

    static Result run(String bootstrap, String topic, String groupId, String jdbcUrl, MacKey key, int maxPollRecords,
            int dedupWindow, Consumer<String> log) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(maxPollRecords));
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "65536");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
        EventDecoder decoder = new EventDecoder(EventKind.LIFECYCLE);
        AuditEntries entries = new AuditEntries(key);
        Map<String, AuditChainState> chains = new HashMap<>();
        Map<String, LinkedHashSet<String>> recentIds = new HashMap<>();
        LedgerWriter.Binder binder = new LedgerWriter.Binder();
        List<double[]> samples = new ArrayList<>();
        long records = 0;
        long written = 0;
        long rejected = 0;
        long duplicates = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                Connection c = DriverManager.getConnection(jdbcUrl)) {
            c.setAutoCommit(false);
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            long total = consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
            consumer.subscribe(List.of(topic));
            long t0 = System.nanoTime();
            long lastLog = t0;
            try (PreparedStatement ps = c.prepareStatement(LedgerWriter.INSERT)) {
                while (records < total) {
                    var batch = consumer.poll(Duration.ofMillis(200));
                    if (batch.isEmpty()) {
                        continue;
                    }
                    for (ConsumerRecord<byte[], byte[]> r : batch) {
                        records++;
                        InputEnvelope e = decoder.decode(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
                        if (e.getDeadLetter() != null) {
                            rejected++;
                            continue;
                        }
                        SpecificRecord event = (SpecificRecord) e.getEvent();
                        String chainId = AuditEntries.chainId(e.getSource());
                        String eventId = AuditEntries.describe(event).eventId();
                        LinkedHashSet<String> recent = recentIds.computeIfAbsent(chainId, k -> new LinkedHashSet<>());
                        if (!recent.add(eventId)) {
                            duplicates++;
                            continue;
                        }
                        if (recent.size() > dedupWindow) {
                            recent.remove(recent.iterator().next());
                        }
                        AuditChainState state = chains.computeIfAbsent(chainId, k -> AuditEntries.emptyChain());
                        AuditRecord entry = entries.append(state, chainId, e.getSource(), event);
                        binder.accept(ps, entry);
                        ps.addBatch();
                        written++;
                    }
                    ps.executeBatch();
                    c.commit();
                    consumer.commitSync();
                    long now = System.nanoTime();
                    samples.add(new double[] {(now - t0) / 1e9, records});
                    if (now - lastLog >= 5_000_000_000L) {
                        lastLog = now;
                        log.accept(String.format(Locale.ROOT, "  [%5.0fs] baseline %,d / %,d records (%.0f %%)",
                                (now - t0) / 1e9, records, total, 100.0 * records / total));
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Result(records, written, rejected, duplicates, seconds, samples);
        }
    }
}
