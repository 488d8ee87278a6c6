package io.cosmichorizons.cli;

import io.cosmichorizons.chaos.ChaosOptions;
import io.cosmichorizons.chaos.ChaosRun;
import io.cosmichorizons.chaos.ReliabilityReport;
import io.cosmichorizons.cluster.FlinkRuntime;
import io.cosmichorizons.cluster.JobJar;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.testbed.Services;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons chaos}: the pipeline under faults, every output compared with the ground truth (issue 7). */
@Command(name = "chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run every job on a real local cluster (a JobManager and 2 TaskManagers) while injecting faults, "
                + "then compare every output with the ground truth and write docs/RELIABILITY.md.",
                "",
                "Default: the short CI run (20,000 events, one TaskManager kill, PostgreSQL stopped 20 s, 2,000 fuzzed "
                + "records).",
                "--full: over 200,000 events, 3 TaskManager kills right after checkpoints, a JobManager kill recovered "
                + "with submit --from-latest-checkpoint, Kafka and PostgreSQL stopped 20 s each, 100,000 fuzzed records, "
                + "and an upgrade to the next job jar (jobs-next: a new optional field in JobLifecycleEvent) rescaling "
                + "1 -> 2, then back to 1, through savepoints.",
                "",
                "Kafka and PostgreSQL are embedded (their faults need them); with external ones (an empty database) those "
                + "faults are skipped.",
                "Exits 0 when every output equals the ground truth, 1 otherwise."})
public final class ChaosCommand implements Callable<Integer> {

    @Option(names = "--full", description = "Everything: the faults above, 100,000 fuzzed records and the upgrade (10 to 30 minutes on 2 cores)")
    boolean full;

    @Option(names = "--jobs", paramLabel = "N", description = "Generated jobs (about 6 records each; default: 3,400, or 35,000 with --full)")
    Integer jobs;

    @Option(names = "--fuzz", paramLabel = "N", description = "Broken records sent across the input topics (default: 2,000, or 100,000 with --full)")
    Integer fuzz;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "7", description = "Seed of the workload and the fuzzing (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "docs/RELIABILITY.md",
            description = "Where to write the report, relative to the project (default ${DEFAULT-VALUE})")
    Path report;

    @Mixin
    ServiceOptions.EmbeddedByDefault external = new ServiceOptions.EmbeddedByDefault();

    @Override
    public Integer call() throws Exception {
        ChaosOptions base = full ? ChaosOptions.full() : ChaosOptions.shortRun();
        ChaosOptions options = new ChaosOptions(jobs != null ? jobs : base.jobs(), base.rate(), seed,
                base.metricsIntervalSeconds(), base.taskManagerKills(), base.killJobManager(), base.kafkaOutage(),
                base.postgresOutage(), fuzz != null ? fuzz : base.fuzzRecords(), base.rescale(), base.checkpointInterval());
        Path home = FlinkRuntime.home();
        Path work = Files.createTempDirectory("horizons-chaos");
        System.out.println("Starting Kafka and PostgreSQL ...");
        try (Services services = Services.builder().bootstrapServers(external.bootstrapServers).jdbcUrl(external.jdbcUrl)
                .dataDirectory(work.resolve("services")).keepData(false).start()) {
            services.summary().forEach(line -> System.out.println("  " + line));
            try (var admin = TopicsCommand.admin(services.bootstrapServers())) {
                TopicsCommand.create(admin, (short) 1, null);
            }
            Migrations.migrate(services.jdbcUrl(), line -> {});
            ChaosRun run = new ChaosRun(options, new ChaosRun.Environment(services.bootstrapServers(), services.jdbcUrl(),
                    "", services.kafka(), services.postgres(), home, work.resolve("cluster"), JobJar.locate(home),
                    options.rescale() ? Optional.of(JobJar.locateNext(home)) : Optional.empty()),
                    line -> System.out.println("[" + java.time.LocalTime.now().withNano(0) + "] " + line));
            ChaosRun.Result result = run.run();
            Path file = home.resolve(report);
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, ReliabilityReport.markdown(result, "bin/horizons chaos" + (full ? " --full" : "")));
            System.out.println("Report: " + file + " (" + (result.comparison().passed() ? "all outputs equal the ground truth"
                    : result.comparison().failures().size() + " checks failed") + ", " + Duration.ofMillis(result.took().toMillis()) + ")");
            return result.comparison().passed() ? 0 : 1;
        }
    }
}
