package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.internal.AuditChainState;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.audit.ledger.AnchorKeys;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.audit.ledger.LedgerWriter;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.testbed.EmbeddedPostgresServer;
import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.testbed.RealServices;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A populated ledger in a fresh, migrated database, written directly with the production code path
 * ({@link AuditEntries} + {@link LedgerWriter}): jobs with lifecycle steps and audit actions spread over chains.
 */
public final class LedgerFixture {
    public static final MacKey MAC_KEY = MacKey.of("fixture-key", "Zml4dHVyZSBNQUMga2V5IGZvciB0aGUgbGVkZ2VyIHRlc3Rz");
    public static final AnchorKeys.Signer SIGNER = signer();

    public final String jdbcUrl;
    /** Entries by chain, in seq order. */
    public final Map<String, List<AuditRecord>> chains = new LinkedHashMap<>();

    private final Map<String, AuditChainState> states = new HashMap<>();
    private final Map<String, Long> offsets = new HashMap<>();
    private final AuditEntries entries = new AuditEntries(MAC_KEY);

    private LedgerFixture(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    public static LedgerFixture create(String name) throws SQLException {
        String url = RealServices.freshDatabase(name);
        Migrations.migrate(url, line -> {});
        return new LedgerFixture(url);
    }

    private static AnchorKeys.Signer signer() {
        var pair = AnchorKeys.generate();
        return new AnchorKeys.Signer(pair.getPrivate(), pair.getPublic(), AnchorKeys.keyId(pair.getPublic()));
    }

    /**
     * Appends {@code jobs} jobs starting at {@code start} (Kafka timestamps = event times, {@code spacingSeconds}
     * apart): each job's four lifecycle steps go to job-lifecycle partition (job % partitions), a submit action to
     * audit-trail. Entries are written to the database and kept in {@link #chains}.
     */
    public LedgerFixture addJobs(String prefix, int jobs, int partitions, Instant start, long spacingSeconds)
            throws SQLException {
        List<AuditRecord> written = new ArrayList<>();
        LifecycleEventType[] steps = {LifecycleEventType.SUBMITTED, LifecycleEventType.QUEUED,
                LifecycleEventType.RUNNING, jobsOutcome(0)};
        for (int j = 0; j < jobs; j++) {
            String jobId = prefix + "-" + j;
            int partition = j % partitions;
            long base = start.getEpochSecond() + j * spacingSeconds;
            steps[3] = jobsOutcome(j);
            for (int s = 0; s < steps.length; s++) {
                long t = base + s * 7L - start.getEpochSecond();
                var event = AuditEvents.lifecycle(jobId, steps[s], 0);
                event.setOccurredAt(Instant.ofEpochSecond(base + s * 7L));
                written.add(append("job-lifecycle", partition, event.getOccurredAt().toEpochMilli(), event));
                if (s == 0) {
                    var action = AuditEvents.action("user-" + (j % 5), "job.submit", jobId, t);
                    action.setOccurredAt(event.getOccurredAt());
                    written.add(append("audit-trail", partition, event.getOccurredAt().toEpochMilli(), action));
                }
            }
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            LedgerWriter.write(c, written, 500);
        }
        return this;
    }

    private static LifecycleEventType jobsOutcome(int j) {
        return j % 10 == 0 ? LifecycleEventType.FAILED : j % 10 == 1 ? LifecycleEventType.CANCELLED
                : LifecycleEventType.COMPLETED;
    }

    private AuditRecord append(String topic, int partition, long kafkaTimestamp, org.apache.avro.specific.SpecificRecord event) {
        String chain = AuditEntries.chainId(topic, partition);
        long offset = offsets.merge(chain, 1L, Long::sum) - 1;
        InputEnvelope env = AuditEvents.envelope(topic, partition, offset, kafkaTimestamp, event);
        AuditChainState state = states.computeIfAbsent(chain, k -> AuditEntries.emptyChain());
        AuditRecord r = entries.append(state, chain, env.getSource(), (org.apache.avro.specific.SpecificRecord) env.getEvent());
        chains.computeIfAbsent(chain, k -> new ArrayList<>()).add(r);
        return r;
    }

    public long size() {
        return chains.values().stream().mapToLong(List::size).sum();
    }

    /** Verifier options with the fixture's MAC key and anchor public key. */
    public LedgerVerifier.Options verifyOptions() {
        return LedgerVerifier.Options.of(List.of(MAC_KEY), List.of(SIGNER.publicKey())).withThreads(2);
    }

    public LedgerVerifier.Report verify() throws Exception {
        return new LedgerVerifier(jdbcUrl, verifyOptions()).verify();
    }

    /** A superuser connection to this database (for tampering: it can switch the append-only triggers off). */
    public Connection superuser() throws SQLException {
        String db = JdbcUrls.database(jdbcUrl);
        String url = RealServices.postgres().map(p -> p.adminJdbcUrl(db)).orElse(jdbcUrl);
        Connection c = DriverManager.getConnection(url);
        try (var s = c.createStatement()) {
            // Triggers do not fire for a session in replica mode (needs superuser; the owner could DISABLE TRIGGER).
            s.execute("SET session_replication_role = replica");
        }
        return c;
    }

    static String superuserName() {
        return EmbeddedPostgresServer.SUPERUSER;
    }
}
