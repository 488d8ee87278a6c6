package io.cosmichorizons.pipeline.audit.ledger;

import io.cosmichorizons.events.AuditOutcome;
import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.SourceRecord;
import io.cosmichorizons.events.internal.AuditChainState;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * {@code audit bench-verify}: fills an empty, migrated ledger database with realistic entries (lifecycle events and
 * audit actions spread over 24 chains, hashed and MAC'd by the production code) and measures how fast the verifier
 * checks them. Entries are loaded with COPY; the append-only and fork triggers stay on.
 */
public final class VerifyBenchmark {
    private VerifyBenchmark() {}

    /** What was measured: one verification per repetition; the figure is their median. */
    public record Result(long rows, int chains, Duration load, List<LedgerVerifier.Report> runs) {
        public LedgerVerifier.Report verification() {
            return runs.get(runs.size() - 1);
        }

        /** The median throughput of the runs, in entries per second. */
        public double rowsPerSecond() {
            double[] rates = runs.stream().mapToDouble(LedgerVerifier.Report::entriesPerSecond).sorted().toArray();
            return rates[rates.length / 2];
        }

        public boolean clean() {
            return runs.stream().allMatch(LedgerVerifier.Report::clean);
        }
    }

    public static Result run(String jdbcUrl, long rows, int chains, int threads, int repeat, Consumer<String> log)
            throws SQLException, InterruptedException {
        MacKey key = MacKey.of("bench", "YmVuY2htYXJrIE1BQyBrZXkgKG5vdCBhIHNlY3JldCk=");
        long t0 = System.nanoTime();
        load(jdbcUrl, rows, chains, key, log);
        Duration load = Duration.ofNanos(System.nanoTime() - t0);
        log.accept(String.format("Loaded %,d entries in %.1f s; analyzing ...", rows, load.toNanos() / 1e9));
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            s.execute("ANALYZE audit_events");
            try (var rs = s.executeQuery("SELECT (SELECT avg(octet_length(payload))::int FROM audit_events), "
                    + "pg_size_pretty((SELECT sum(pg_relation_size(partition_name::regclass)) FROM audit_partitions)::bigint)")) {
                rs.next();
                log.accept("Average payload " + rs.getInt(1) + " bytes; table " + rs.getString(2) + " (without indexes)");
            }
        }
        LedgerVerifier.Options options = LedgerVerifier.Options.of(List.of(key), List.of());
        if (threads > 0) {
            options = options.withThreads(threads);
        }
        List<LedgerVerifier.Report> runs = new ArrayList<>();
        for (int i = 1; i <= Math.max(1, repeat); i++) {
            LedgerVerifier.Report report = new LedgerVerifier(jdbcUrl, options).verify();
            log.accept(String.format("Verification %d (hashes, links, MACs; %d connections): %s, %,d entries in %.2f s = %,.0f entries/s",
                    i, options.threads(), report.clean() ? "CLEAN" : "BROKEN", report.entries(),
                    report.elapsed().toNanos() / 1e9, report.entriesPerSecond()));
            runs.add(report);
        }
        return new Result(rows, chains, load, runs);
    }

    /**
     * Generates {@code rows} entries round-robin over {@code chains} chains (even chains lifecycle steps, odd ones
     * audit actions; 8 entries per job id) with Kafka timestamps over the last two days, and COPYs them in.
     */
    public static void load(String jdbcUrl, long rows, int chains, MacKey key, Consumer<String> log) throws SQLException {
        AuditEntries entries = new AuditEntries(key);
        List<AuditChainState> states = new ArrayList<>();
        for (int i = 0; i < chains; i++) {
            states.add(AuditEntries.emptyChain());
        }
        SplittableRandom rnd = new SplittableRandom(42);
        // Two days back from now, so the entries fall into a few day partitions.
        long start = Instant.now().minus(Duration.ofDays(2)).toEpochMilli();
        long spacing = Math.max(1, Duration.ofDays(2).toMillis() / Math.max(1, rows));
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            for (LocalDate d = LocalDate.ofInstant(Instant.ofEpochMilli(start), ZoneOffset.UTC);
                    !d.isAfter(LocalDate.now(ZoneOffset.UTC)); d = d.plusDays(1)) {
                LedgerWriter.ensurePartition(c, d);
            }
            c.setAutoCommit(false);
            CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY audit_events (chain_id, seq, "
                    + "chain_time, event_id, event_type, source_topic, source_offset, job_id, actor, correlation_id, "
                    + "occurred_at, kafka_timestamp, payload, prev_hash, hash, mac, key_id) FROM STDIN");
            StringBuilder line = new StringBuilder(2048);
            for (long i = 0; i < rows; i++) {
                int chain = (int) (i % chains);
                boolean lifecycle = chain % 2 == 0;
                String topic = lifecycle ? "job-lifecycle" : "audit-trail";
                int partition = chain / 2;
                AuditChainState state = states.get(chain);
                long ts = start + i * spacing;
                SourceRecord source = SourceRecord.newBuilder().setTopic(topic).setPartition(partition)
                        .setOffset(state.getNextSeq()).setTimestamp(Instant.ofEpochMilli(ts)).build();
                String jobId = "job-" + (i / 8);
                var event = lifecycle
                        ? JobLifecycleEvent.newBuilder().setEventId(uuid(rnd)).setEventType(LifecycleEventType.QUEUED)
                                .setJobId(jobId).setUserId("user-" + rnd.nextInt(200)).setCorrelationId(uuid(rnd))
                                .setOccurredAt(Instant.ofEpochMilli(ts)).setProducer("orchestrator")
                                .setDetails(new QueuedDetails("hpc-" + i, rnd.nextInt(50), "Priority")).build()
                        : AuditTrailEvent.newBuilder().setEventId(uuid(rnd)).setActor("user-" + rnd.nextInt(200))
                                .setAction("dataset.download").setResourceType("dataset").setResourceId("products/" + jobId)
                                .setOutcome(AuditOutcome.SUCCESS).setDetails(Map.of("bytes", String.valueOf(rnd.nextInt(1 << 30)),
                                        "client", "horizons-web/2.3"))
                                .setOccurredAt(Instant.ofEpochMilli(ts)).setCorrelationId(uuid(rnd)).build();
                AuditRecord r = entries.append(state, AuditEntries.chainId(topic, partition), source, event);
                line.setLength(0);
                appendRow(line, r);
                byte[] bytes = line.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                copy.writeToCopy(bytes, 0, bytes.length);
                if ((i + 1) % 200_000 == 0) {
                    log.accept(String.format("  %,d / %,d", i + 1, rows));
                }
            }
            copy.endCopy();
            c.commit();
        }
    }

    private static void appendRow(StringBuilder sb, AuditRecord r) {
        sb.append(text(r.getChainId())).append('\t').append(r.getSeq()).append('\t')
                .append(r.getChainTime()).append('\t').append(text(r.getEventId())).append('\t')
                .append(text(r.getEventType())).append('\t').append(text(r.getSourceTopic())).append('\t')
                .append(r.getSourceOffset()).append('\t').append(r.getJobId() == null ? "\\N" : text(r.getJobId()))
                .append('\t').append(text(r.getActor())).append('\t').append(text(r.getCorrelationId())).append('\t')
                .append(r.getOccurredAt()).append('\t').append(r.getKafkaTimestamp()).append('\t')
                .append(text(r.getPayload())).append('\t').append(bytea(r.getPrevHash())).append('\t')
                .append(bytea(r.getHash())).append('\t').append(bytea(r.getMac())).append('\t')
                .append(text(r.getKeyId())).append('\n');
    }

    /** COPY text format escaping. */
    private static String text(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            String esc = switch (ch) {
                case '\\' -> "\\\\";
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                default -> null;
            };
            if (esc != null && out == null) {
                out = new StringBuilder(s.substring(0, i));
            }
            if (out != null) {
                out.append(esc != null ? esc : String.valueOf(ch));
            }
        }
        return out == null ? s : out.toString();
    }

    private static String bytea(java.nio.ByteBuffer b) {
        return "\\\\x" + java.util.HexFormat.of().formatHex(AuditEntries.bytes(b));
    }

    private static String uuid(SplittableRandom rnd) {
        return new UUID(rnd.nextLong(), rnd.nextLong()).toString();
    }
}
