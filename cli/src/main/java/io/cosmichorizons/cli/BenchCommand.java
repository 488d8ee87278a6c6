package io.cosmichorizons.cli;

import io.cosmichorizons.bench.BenchRunner;
import io.cosmichorizons.pipeline.InProcessFlink;
import io.cosmichorizons.pipeline.config.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons bench}: throughput, latency, memory and microbenchmarks; writes docs/BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark the pipeline on this machine and write the report (docs/BENCHMARKS.md), its CSVs and",
                "PNG plots (docs/benchmarks/). Phases, in order:",
                "  e2e       the generator preloads --events of the realistic mix; all jobs run from offset 0 with",
                "            exactly-once checkpoints until every output is committed (events/s, consumer lag)",
                "  baseline  the audit job alone vs a hand-written single-threaded KafkaConsumer -> PostgreSQL",
                "            audit writer on the same lifecycle records (throughput ratio)",
                "  latency   production -> visible output, p50/p95/p99, per input rate x checkpoint interval",
                "  soak      memory (heap after GC, RSS, state) over --soak-events on RocksDB state",
                "  jmh       JMH microbenchmarks: decoder, state-machine step, hash-chain step, verification",
                "Embedded Kafka and PostgreSQL (fsync and synchronous_commit ON) unless given; with external ones the",
                "bench creates and deletes its own bench-* topics and, per phase, a database (it needs CREATEDB).",
                "Not for CI; run it on a",
                "quiet machine (it prints the load average), e.g. flock -o /tmp/mvn.lock bin/horizons bench --quick"})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Small workloads and a subset of the latency grid; under 10 minutes. "
            + "Writes to .horizons/bench-quick/ unless --output is given")
    boolean quick;

    @Option(names = "--events", paramLabel = "N", description = "End-to-end: events to preload (default 2000000; 150000 with --quick)")
    Long events;

    @Option(names = "--parallelism", defaultValue = "2", description = "Parallelism of each Flink job (default ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--state-backend", paramLabel = "hashmap|rocksdb", defaultValue = "hashmap",
            description = "State backend of the end-to-end, audit and latency runs: hashmap (heap, full snapshots, as the "
                    + "demo) or rocksdb (incremental checkpoints, as flink-conf/config.yaml sets on the cluster); the soak "
                    + "always uses rocksdb (default ${DEFAULT-VALUE})")
    String stateBackend;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "1s",
            description = "Exactly-once checkpoint interval of the end-to-end and audit runs (default ${DEFAULT-VALUE})")
    String checkpoint;

    @Option(names = "--soak-checkpoint-interval", paramLabel = "DURATION", defaultValue = "10s",
            description = "Exactly-once checkpoint interval of the soak: the cluster's (flink-conf/config.yaml). With a "
                    + "million jobs of RocksDB state each checkpoint takes seconds, so 1 s would checkpoint nonstop "
                    + "(default ${DEFAULT-VALUE})")
    String soakCheckpoint;

    @Option(names = "--latency-rates", paramLabel = "N,N", split = ",",
            description = "Latency: fixed input rates in events/s (default 1000,5000,20000; 1000,5000 with --quick)")
    List<Integer> latencyRates;

    @Option(names = "--latency-checkpoints", paramLabel = "DURATION,DURATION", split = ",",
            description = "Latency: checkpoint intervals (default 200ms,1s,5s; 200ms,1s with --quick)")
    List<String> latencyCheckpoints;

    @Option(names = "--latency-duration", paramLabel = "DURATION",
            description = "Latency: how long each rate x interval cell produces (default 60s; 20s with --quick)")
    String latencyDuration;

    @Option(names = "--soak-events", paramLabel = "N", description = "Soak: events (default 10000000; 100000 with --quick)")
    Long soakEvents;

    @Option(names = "--soak-jobs", paramLabel = "N", description = "Soak: distinct jobs (default 1000000; 10000 with --quick)")
    Integer soakJobs;

    @Option(names = "--soak-managed-memory-per-slot", paramLabel = "MB", defaultValue = "2048",
            description = "Soak: managed memory of each slot of the soak's MiniCluster, RocksDB's block cache and write "
                    + "buffers, sized for a million jobs' state (the other phases get a slot's share of a TaskManager of "
                    + "flink-conf/config.yaml, " + InProcessFlink.MANAGED_MEMORY_PER_SLOT_MB + " MB; default ${DEFAULT-VALUE})")
    int soakManagedMemoryPerSlot;

    @Option(names = "--phases", paramLabel = "LIST",
            description = "Phases to run, comma-separated, of e2e,baseline,latency,soak,jmh (default: all)")
    String phases;

    @Option(names = "--output", paramLabel = "DIR",
            description = "Where BENCHMARKS.md and benchmarks/ go (default: docs/ of the project; .horizons/bench-quick/ with --quick)")
    Path output;

    @Mixin
    ServiceOptions.EmbeddedByDefault external = new ServiceOptions.EmbeddedByDefault();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Embedded Kafka, PostgreSQL and checkpoint data (default: a temporary directory)")
    Path dataDir;

    @Option(names = "--keep", description = "Keep the bench topics and databases")
    boolean keep;

    @Option(names = "--jfr", paramLabel = "FILE",
            description = "Record a JDK Flight Recorder profile (settings 'profile') of the Flink phases (e2e, baseline, latency, soak) to FILE, e.g. for `jfr print --events jdk.ExecutionSample FILE`")
    Path jfr;

    private static boolean rocksDb(String backend) {
        return switch (backend.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "rocksdb" -> true;
            case "hashmap" -> false;
            default -> throw new IllegalArgumentException("--state-backend is rocksdb or hashmap, not " + backend);
        };
    }

    @Override
    public Integer call() throws Exception {
        Path home = Path.of(System.getProperty("horizons.home", "."));
        Path out = output != null ? output : quick ? home.resolve(".horizons/bench-quick") : home.resolve("docs");
        BenchRunner.Options options = new BenchRunner.Options(
                quick,
                events != null ? events : quick ? 150_000 : BenchRunner.Options.FULL_EVENTS,
                parallelism,
                Settings.parseDuration(checkpoint),
                latencyRates != null ? latencyRates : quick ? List.of(1_000, 5_000) : BenchRunner.Options.FULL_LATENCY_RATES,
                latencyCheckpoints != null ? latencyCheckpoints.stream().map(Settings::parseDuration).toList()
                        : quick ? List.of(Duration.ofMillis(200), Duration.ofSeconds(1)) : BenchRunner.Options.FULL_LATENCY_CHECKPOINTS,
                latencyDuration != null ? Settings.parseDuration(latencyDuration)
                        : quick ? Duration.ofSeconds(20) : BenchRunner.Options.FULL_LATENCY_DURATION,
                soakEvents != null ? soakEvents : quick ? 100_000 : BenchRunner.Options.FULL_SOAK_EVENTS,
                soakJobs != null ? soakJobs : quick ? 10_000 : BenchRunner.Options.FULL_SOAK_JOBS,
                Settings.parseDuration(soakCheckpoint),
                new LinkedHashSet<>(BenchRunner.phases(phases)),
                out, dataDir,
                external.bootstrapServers, // null: KAFKA_BOOTSTRAP_SERVERS, else embedded
                external.jdbcUrl, // null: JDBC_URL, else embedded
                keep, jfr, rocksDb(stateBackend),
                soakManagedMemoryPerSlot);
        System.out.println("bin/horizons bench" + (quick ? " --quick" : "") + ": phases " + options.phases()
                + "; output " + out.toAbsolutePath().normalize());
        new BenchRunner(options, System.out::println).run();
        return 0;
    }
}
