package io.cosmichorizons.cli;

import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.slurm.SlurmBridge;
import io.cosmichorizons.slurm.SlurmBridgeMain;
import io.cosmichorizons.slurm.SlurmCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons slurm-bridge}: publish the lifecycle of a real Slurm cluster's jobs. */
@Command(name = "slurm-bridge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publish the lifecycle of every job of a Slurm cluster to job-lifecycle: polls squeue --json",
                "(and the hook scripts' spool, see deploy/slurm/hooks), restart-safe, with back-off while",
                "slurmctld or Kafka is away. Run it beside slurmctld as root or SlurmUser (squeue must see all jobs)."})
public final class SlurmBridgeCommand implements Callable<Integer> {
    @Mixin
    ServiceOptions services;

    @Option(names = "--cluster", required = true, paramLabel = "NAME",
            description = "Cluster name in job ids (slurm:<cluster>:<jobid>) and in hpc_system")
    String cluster;

    @Option(names = "--poll", defaultValue = "1s", description = "Time between two polls of squeue (default ${DEFAULT-VALUE})")
    String poll;

    @Option(names = "--state-file", paramLabel = "PATH",
            description = "Where the bridge records what it published (default ./slurm-bridge-<cluster>.json)")
    Path stateFile;

    @Option(names = "--spool", paramLabel = "PATH", defaultValue = "${env:HORIZONS_SLURM_SPOOL}",
            description = "The hook scripts' spool file (env HORIZONS_SLURM_SPOOL; default: none, squeue only)")
    Path spool;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the job-lifecycle topic name (default none)")
    String topicPrefix;

    @Option(names = "--format", defaultValue = "avro", description = "Wire format: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    WireFormat format;

    @Option(names = "--squeue", defaultValue = "squeue", description = "The squeue command, e.g. a wrapper (default ${DEFAULT-VALUE})")
    String squeue;

    @Option(names = "--sacct", defaultValue = "sacct",
            description = "The sacct command, asked who cancelled a job; 'none' to never ask (default ${DEFAULT-VALUE})")
    String sacct;

    @Option(names = "--max-backoff", defaultValue = "30s",
            description = "Longest wait between retries while slurmctld or Kafka is away (default ${DEFAULT-VALUE})")
    String maxBackoff;

    @Override
    public Integer call() throws Exception {
        SlurmBridge.Config config = new SlurmBridge.Config(cluster, SlurmBridgeMain.parseDuration(poll),
                stateFile != null ? stateFile : Path.of("slurm-bridge-" + cluster + ".json"), spool,
                SlurmBridgeMain.parseDuration(maxBackoff), Duration.ofSeconds(60), Duration.ofDays(1));
        SlurmCommands slurm = new SlurmCommands(List.of(squeue.strip().split("\\s+")),
                sacct.equals("none") ? null : sacct, Duration.ofSeconds(30), Map.of());
        showBridgeLogOnConsole();
        System.out.printf("Slurm bridge for cluster %s -> %s%s (Ctrl-C stops it; state in %s)%n", cluster,
                services.bootstrapServers, topicPrefix.isEmpty() ? "" : " (topic prefix " + topicPrefix + ")",
                config.stateFile().toAbsolutePath());
        SlurmBridgeMain.run(config, slurm, services.bootstrapServers, TopicNames.defaults().withPrefix(topicPrefix), format);
        return 0;
    }

    /** The CLI's log goes to a file; the bridge's own messages (outages, catch-ups) are for the operator's eyes. */
    static void showBridgeLogOnConsole() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        Appender console = ConsoleAppender.newBuilder()
                .setName("slurm-bridge-console")
                .setTarget(ConsoleAppender.Target.SYSTEM_OUT)
                .setLayout(PatternLayout.newBuilder().withPattern("%d{HH:mm:ss} %-5p %m%n").build())
                .build();
        console.start();
        configuration.addAppender(console);
        LoggerConfig bridge = new LoggerConfig("io.cosmichorizons.slurm", Level.INFO, true);
        bridge.addAppender(console, Level.INFO, null);
        configuration.addLogger("io.cosmichorizons.slurm", bridge);
        context.updateLoggers();
    }
}
