package io.cosmichorizons.cli;

import io.cosmichorizons.pipeline.audit.ledger.Anchor;
import io.cosmichorizons.pipeline.audit.ledger.AnchorKeys;
import io.cosmichorizons.pipeline.audit.ledger.AuditTrailQuery;
import io.cosmichorizons.pipeline.audit.ledger.ComplianceReport;
import io.cosmichorizons.pipeline.audit.ledger.LedgerAnchoring;
import io.cosmichorizons.pipeline.audit.ledger.LedgerRetention;
import io.cosmichorizons.pipeline.audit.ledger.LedgerVerifier;
import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.audit.ledger.VerifyBenchmark;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.testbed.EmbeddedPostgresServer;
import io.cosmichorizons.testbed.JdbcUrls;
import io.cosmichorizons.topics.Topics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code horizons audit keygen|anchor|verify|retention|report|query|bench-verify}: the verifiable audit ledger. The
 * logic lives in {@code io.cosmichorizons.pipeline.audit.ledger}; these commands parse options and print.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "The verifiable audit ledger: anchors, verification, retention, reports and trails.",
        subcommands = {AuditCommand.Keygen.class, AuditCommand.AnchorCmd.class, AuditCommand.Verify.class,
                AuditCommand.Retention.class, AuditCommand.Report.class, AuditCommand.Query.class,
                AuditCommand.BenchVerify.class})
public final class AuditCommand {
    static final String ENV_SIGNING_KEY = "AUDIT_SIGNING_KEY";
    static final String ENV_ANCHOR_PUBLIC_KEY = "AUDIT_ANCHOR_PUBLIC_KEY";

    /** The keys a verification needs: MAC keys and trusted anchor public keys. */
    static class Keys {
        @Option(names = "--mac-key", paramLabel = "ID=BASE64",
                description = "A MAC key the ledger was written with (repeatable, for rotated keys). Default: env "
                        + MacKey.ENV_KEY + " (+ " + MacKey.ENV_KEY_ID + "), else the public demo key.")
        List<String> macKeys = new ArrayList<>();

        @Option(names = "--anchor-key", paramLabel = "FILE",
                description = "A trusted anchor public key (PEM; repeatable). Default: env " + ENV_ANCHOR_PUBLIC_KEY
                        + ", and the .pub next to --signing-key.")
        List<Path> anchorKeys = new ArrayList<>();

        @Option(names = "--skip-macs", description = "Do not check MACs (the verdict says so)")
        boolean skipMacs;

        @Option(names = "--threads", defaultValue = "0", description = "Parallel database connections (default: CPU count + 1, at most 4)")
        int threads;

        LedgerVerifier.Options options(Path signingKey) throws IOException {
            List<MacKey> keys = new ArrayList<>();
            for (String spec : macKeys) {
                int eq = spec.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--mac-key takes ID=BASE64, got '" + spec + "'");
                }
                keys.add(MacKey.of(spec.substring(0, eq), spec.substring(eq + 1)));
            }
            if (keys.isEmpty()) {
                keys.add(MacKey.resolve(null, null, System.getenv()));
            }
            List<PublicKey> trusted = new ArrayList<>();
            List<Path> files = new ArrayList<>(anchorKeys);
            if (files.isEmpty() && System.getenv(ENV_ANCHOR_PUBLIC_KEY) != null) {
                files.add(Path.of(System.getenv(ENV_ANCHOR_PUBLIC_KEY)));
            }
            if (signingKey != null && Files.exists(AnchorKeys.publicFileOf(signingKey))) {
                files.add(AnchorKeys.publicFileOf(signingKey));
            }
            for (Path f : files) {
                trusted.add(AnchorKeys.loadPublic(f));
            }
            LedgerVerifier.Options o = LedgerVerifier.Options.of(keys, trusted);
            if (threads > 0) {
                o = o.withThreads(threads);
            }
            return skipMacs ? o.withoutMacs() : o;
        }
    }

    static Path signingKey(Path given) {
        if (given != null) {
            return given;
        }
        String env = System.getenv(ENV_SIGNING_KEY);
        return env == null ? null : Path.of(env);
    }

    static Path requireSigningKey(Path given) {
        Path key = signingKey(given);
        if (key == null) {
            throw new IllegalArgumentException("No anchor signing key: give --signing-key FILE or set " + ENV_SIGNING_KEY
                    + " (create one with: horizons audit keygen --out FILE)");
        }
        return key;
    }

    static Instant parseTime(String text) {
        try {
            return Instant.parse(text);
        } catch (RuntimeException notAnInstant) {
            try {
                return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (RuntimeException notADate) {
                return Instant.now().minus(Settings.parseDuration(text));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ keygen

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = "Create an Ed25519 key pair for signing anchors: FILE (private, mode 600) and FILE.pub.")
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Private key file to create")
        Path out;

        @Override
        public Integer call() throws Exception {
            AnchorKeys.Signer signer = AnchorKeys.generate(out);
            System.out.println("Private key: " + out + " (keep it outside the database; back it up)");
            System.out.println("Public key:  " + AnchorKeys.publicFileOf(out) + " (give it to verifiers)");
            System.out.println("Key id:      " + signer.keyId());
            return 0;
        }
    }

    // ------------------------------------------------------------------------------------------------ anchor

    @Command(name = "anchor", mixinStandardHelpOptions = true,
            description = {"Verify each chain's extension since the last anchor, then append a signed anchor "
                    + "(chain heads, RFC 6962 Merkle root, previous anchor hash, time, key id).",
                    "Refuses, and exits 1, when the verification finds a problem."})
    static final class AnchorCmd implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Mixin
        Keys keys;

        @Option(names = "--signing-key", paramLabel = "FILE", description = "Ed25519 private key (env " + ENV_SIGNING_KEY + ")")
        Path signingKey;

        @Option(names = "--every", paramLabel = "DURATION",
                description = "Anchor repeatedly at this interval (e.g. 60s) until stopped. A failed attempt (e.g. "
                        + "PostgreSQL down) is reported on standard error and retried at the next tick.")
        String every;

        @Option(names = "--count", paramLabel = "N", description = "With --every: stop after N attempts (default: until stopped)")
        Integer count;

        @Override
        public Integer call() throws Exception {
            if (count != null && (every == null || count < 1)) {
                throw new IllegalArgumentException("--count takes a number of attempts (1 or more) and needs --every");
            }
            Path keyFile = requireSigningKey(signingKey);
            AnchorKeys.Signer signer = AnchorKeys.loadSigner(keyFile);
            LedgerVerifier.Options options = keys.options(keyFile);
            if (every == null) {
                return once(signer, options) ? 0 : 1;
            }
            Duration interval = Settings.parseDuration(every);
            CountDownLatch stop = new CountDownLatch(1);
            Thread stopOnShutdown = new Thread(stop::countDown);
            Runtime.getRuntime().addShutdownHook(stopOnShutdown);
            try {
                return repeat(interval, count, stop, () -> once(signer, options), System.err) ? 0 : 1;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stopOnShutdown);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is exiting: the hook has run or is running
                }
            }
        }

        /**
         * Runs {@code attempt} now and then every {@code interval}, until {@code stop} opens or {@code count} attempts
         * were made (null: no limit). An attempt that throws (PostgreSQL unreachable, say) is reported on {@code log}
         * and the next tick tries again, so one outage does not end the anchoring. Returns whether every attempt
         * anchored.
         */
        static boolean repeat(Duration interval, Integer count, CountDownLatch stop, Callable<Boolean> attempt,
                PrintStream log) throws InterruptedException {
            boolean allAnchored = true;
            int attempts = 0;
            do {
                attempts++;
                try {
                    allAnchored &= attempt.call();
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    allAnchored = false;
                    log.printf("%s anchoring attempt %d failed: %s; retrying in %s%n", Instant.now(), attempts, e,
                            interval.toString().substring(2).toLowerCase(Locale.ROOT));
                }
            } while ((count == null || attempts < count) && !stop.await(interval.toMillis(), TimeUnit.MILLISECONDS));
            return allAnchored;
        }

        private boolean once(AnchorKeys.Signer signer, LedgerVerifier.Options options) throws Exception {
            LedgerAnchoring.Outcome outcome = LedgerAnchoring.anchor(services.jdbcUrl, signer, options, Clock.systemUTC());
            if (!outcome.anchored()) {
                System.out.print(outcome.verification().render());
                System.out.println("Not anchored: the ledger's extension since the last anchor does not verify.");
                return false;
            }
            Anchor a = outcome.anchor();
            System.out.printf("%s anchor #%d: %d chains, %,d new entries verified, merkle root %s, key %s%n",
                    a.createdAt(), a.seq(), a.heads().size(), outcome.verification().entries(),
                    java.util.HexFormat.of().formatHex(a.merkleRoot()), a.keyId());
            return true;
        }
    }

    // ------------------------------------------------------------------------------------------------ verify

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Verify the ledger: sequence gaps, prev links, hashes, MACs, anchors and their signatures.",
                    "Prints the verdict and, for each broken chain, the first broken place. Exit 0 when clean, 1 otherwise."})
    static final class Verify implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Mixin
        Keys keys;

        @Option(names = "--job", paramLabel = "ID", description = "Only the chains holding this job's entries")
        String job;

        @Option(names = "--chain", paramLabel = "CHAIN", description = "Only this chain, e.g. job-lifecycle/7")
        String chain;

        @Option(names = "--since", paramLabel = "TIME",
                description = "Only entries after the last anchor made before TIME (ISO instant, date, or a duration ago like 24h)")
        String since;

        @Option(names = "--signing-key", paramLabel = "FILE", description = "Also trust the public key next to this private key")
        Path signingKey;

        @Override
        public Integer call() throws Exception {
            LedgerVerifier.Options o = keys.options(signingKey(signingKey));
            if (job != null) {
                o = o.withJob(job);
            }
            if (chain != null) {
                o = o.withChain(chain);
            }
            if (since != null) {
                o = o.withSince(parseTime(since));
            }
            LedgerVerifier.Report report = new LedgerVerifier(services.jdbcUrl, o).verify();
            System.out.print(report.render());
            return report.clean() ? 0 : 1;
        }
    }

    // ------------------------------------------------------------------------------------------------ retention

    @Command(name = "retention", mixinStandardHelpOptions = true,
            description = {"Drop whole day partitions older than the policy, after verifying the ledger and appending "
                    + "a signed retention anchor with every chain's head at the cut.",
                    "Exit 1 when the ledger does not verify (nothing is removed then)."})
    static final class Retention implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Mixin
        Keys keys;

        @Option(names = "--keep", required = true, paramLabel = "DAYS", description = "Keep this much, e.g. 90d")
        String keep;

        @Option(names = "--dry-run", description = "Show what would be removed; change nothing")
        boolean dryRun;

        @Option(names = "--signing-key", paramLabel = "FILE", description = "Ed25519 private key (env " + ENV_SIGNING_KEY + ")")
        Path signingKey;

        @Override
        public Integer call() throws Exception {
            long days = Settings.parseDuration(keep).toDays();
            if (days < 1 || days > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("--keep must be at least 1 day, got " + keep);
            }
            Path keyFile = dryRun ? signingKey(signingKey) : requireSigningKey(signingKey);
            AnchorKeys.Signer signer = keyFile == null ? null : AnchorKeys.loadSigner(keyFile);
            LedgerRetention.Outcome o = LedgerRetention.run(services.jdbcUrl, (int) days, dryRun, signer,
                    keys.options(keyFile), Clock.systemUTC());
            LedgerRetention.Plan plan = o.plan();
            System.out.printf("Retention %d days: cut at %s; %d day partition(s) before it hold %,d entries in %d chain(s)%n",
                    plan.keepDays(), plan.cut(), plan.partitions().size(), plan.entries(), plan.cutHeads().size());
            plan.partitions().forEach(p -> System.out.println("  " + p));
            if (plan.partitions().isEmpty()) {
                System.out.println("Nothing to remove.");
                return 0;
            }
            if (o.refused()) {
                System.out.print(o.verification().render());
                System.out.println("Refused: the ledger does not verify, so nothing was removed.");
                return 1;
            }
            if (o.dryRun()) {
                System.out.println("Dry run: the ledger verifies; nothing was changed.");
                return 0;
            }
            System.out.printf("Retention anchor #%d recorded %d chain head(s) at the cut; dropped %s%n",
                    o.anchor().seq(), o.anchor().heads().size(), o.dropped());
            return 0;
        }
    }

    // ------------------------------------------------------------------------------------------------ report

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Compliance report: events by type and actor, jobs by outcome, policy status, per-chain "
                    + "verification, dead letters and invalid transitions.")
    static final class Report implements Callable<Integer> {
        enum Format { html, md, json }

        @Mixin
        ServiceOptions services;

        @Mixin
        Keys keys;

        @Option(names = "--from", paramLabel = "TIME", description = "Start (ISO instant or date, or a duration ago); default 30d ago")
        String from;

        @Option(names = "--to", paramLabel = "TIME", description = "End, exclusive (ISO instant or date, or a duration ago); default now")
        String to;

        @Option(names = "--format", defaultValue = "html", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
        Format format;

        @Option(names = "--output", paramLabel = "FILE", description = "Write here instead of standard output")
        Path output;

        @Option(names = "--dead-letter-topic", defaultValue = Topics.DEAD_LETTERS, description = "Default ${DEFAULT-VALUE}")
        String deadLetterTopic;

        @Option(names = "--no-dead-letters", description = "Leave dead letters out (no Kafka needed)")
        boolean noDeadLetters;

        @Option(names = "--signing-key", paramLabel = "FILE", description = "Also trust the public key next to this private key")
        Path signingKey;

        @Override
        public Integer call() throws Exception {
            Instant end = to == null ? Instant.now() : parseTime(to);
            Instant start = from == null ? end.minus(Duration.ofDays(30)) : parseTime(from);
            ComplianceReport.Data data = ComplianceReport.collect(services.jdbcUrl, start, end,
                    keys.options(signingKey(signingKey)), noDeadLetters ? null : services.bootstrapServers,
                    noDeadLetters ? null : deadLetterTopic);
            String text = switch (format) {
                case html -> ComplianceReport.html(data);
                case md -> ComplianceReport.markdown(data);
                case json -> ComplianceReport.json(data);
            };
            if (output == null) {
                System.out.print(text);
            } else {
                Files.writeString(output, text, StandardCharsets.UTF_8);
                System.out.println("Wrote " + output + " (ledger " + (data.verification().clean() ? "CLEAN" : "BROKEN") + ")");
            }
            return 0;
        }
    }

    // ------------------------------------------------------------------------------------------------ query

    @Command(name = "query", mixinStandardHelpOptions = true,
            description = "Print one trail in event-time order, each entry marked VERIFIED (and ANCHORED) or NOT VERIFIED. "
                    + "Exit 1 when any entry does not verify.")
    static final class Query implements Callable<Integer> {
        static final class Target {
            @Option(names = "--job", paramLabel = "ID", required = true)
            String job;

            @Option(names = "--user", paramLabel = "USER", required = true)
            String user;

            @Option(names = "--correlation", paramLabel = "ID", required = true)
            String correlation;
        }

        @Mixin
        ServiceOptions services;

        @Mixin
        Keys keys;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = "--signing-key", paramLabel = "FILE", description = "Also trust the public key next to this private key")
        Path signingKey;

        @Override
        public Integer call() throws Exception {
            AuditTrailQuery.By by = target.job != null ? AuditTrailQuery.By.JOB
                    : target.user != null ? AuditTrailQuery.By.USER : AuditTrailQuery.By.CORRELATION;
            String value = target.job != null ? target.job : target.user != null ? target.user : target.correlation;
            AuditTrailQuery.Trail trail = AuditTrailQuery.run(services.jdbcUrl, by, value, keys.options(signingKey(signingKey)));
            System.out.print(trail.render());
            return trail.rows().stream().allMatch(AuditTrailQuery.Row::verified) ? 0 : 1;
        }
    }

    // ------------------------------------------------------------------------------------------------ bench

    @Command(name = "bench-verify", mixinStandardHelpOptions = true,
            description = {"Measure verification throughput: load N entries into a fresh database, then verify them.",
                    "Uses an embedded PostgreSQL with --embedded-postgres, else a new database on --jdbc-url's server "
                            + "(needs CREATEDB; dropped afterwards unless --keep)."})
    static final class BenchVerify implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Option(names = "--rows", defaultValue = "1000000", description = "Entries to generate (default ${DEFAULT-VALUE})")
        long rows;

        @Option(names = "--chains", defaultValue = "24", description = "Chains (default ${DEFAULT-VALUE}: 12 + 12 partitions)")
        int chains;

        @Option(names = "--threads", defaultValue = "0", description = "Verifier connections (default: CPU count + 1, at most 4)")
        int threads;

        @Option(names = "--repeat", defaultValue = "3", description = "Verification runs; the figure is their median (default ${DEFAULT-VALUE})")
        int repeat;

        @Option(names = "--embedded-postgres", description = "Start a throwaway embedded PostgreSQL")
        boolean embedded;

        @Option(names = "--keep", description = "Keep the benchmark database")
        boolean keep;

        @Override
        public Integer call() throws Exception {
            EmbeddedPostgresServer pg = embedded ? EmbeddedPostgresServer.builder().start() : null;
            try {
                String serverUrl = pg != null ? pg.jdbcUrl() : services.jdbcUrl;
                String name = "horizons_audit_bench_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
                try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + name);
                }
                String url = JdbcUrls.withDatabase(serverUrl, name);
                try {
                    Migrations.migrate(url, line -> {});
                    System.out.printf("Benchmark database %s; %,d entries over %d chains; %d CPUs%n",
                            name, rows, chains, Runtime.getRuntime().availableProcessors());
                    VerifyBenchmark.Result r = VerifyBenchmark.run(url, rows, chains, threads, repeat, System.out::println);
                    System.out.print(r.verification().render());
                    System.out.printf(Locale.ROOT, "RESULT verified %,d entries: median %,.0f entries/s over %d run(s)%n",
                            r.verification().entries(), r.rowsPerSecond(), r.runs().size());
                    return r.clean() ? 0 : 1;
                } finally {
                    if (!keep) {
                        try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
                            s.execute("DROP DATABASE IF EXISTS " + name);
                        }
                    }
                }
            } finally {
                if (pg != null) {
                    pg.close();
                }
            }
        }
    }
}
