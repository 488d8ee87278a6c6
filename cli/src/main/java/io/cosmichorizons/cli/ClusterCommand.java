package io.cosmichorizons.cli;

import io.cosmichorizons.cluster.ClusterStatus;
import io.cosmichorizons.cluster.FlinkRestClient;
import io.cosmichorizons.cluster.FlinkRuntime;
import io.cosmichorizons.cluster.JobHistory;
import io.cosmichorizons.cluster.LocalCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons cluster start|stop|status}: a real standalone Flink session cluster on this machine. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Start, stop or inspect a standalone Flink cluster on this machine (configured by flink-conf/).",
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.Status.class})
public final class ClusterCommand {

    static LocalCluster localCluster() {
        return LocalCluster.atHome(FlinkRuntime.home());
    }

    static JobHistory history(LocalCluster cluster) {
        return new JobHistory(cluster.runDirectory().resolve("jobs"));
    }

    @Command(name = "start", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Start a JobManager and N TaskManagers, each its own JVM, from flink-conf/config.yaml.",
                    "Logs, pids and state go to .horizons/cluster/; the Web UI is at rest.port (8081)."})
    static final class Start implements Callable<Integer> {
        @Option(names = "--taskmanagers", defaultValue = "2", description = "TaskManagers to start (default ${DEFAULT-VALUE})")
        int taskManagers;

        @Option(names = "--sql-gateway", description = "Also start a Flink SQL gateway (REST endpoint on sql-gateway.endpoint.rest.port, 8083 by default)")
        boolean sqlGateway;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "A Flink setting over flink-conf/config.yaml for this cluster (repeatable), e.g. --set rest.port=18081")
        java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();

        @Override
        public Integer call() {
            LocalCluster.Builder builder = LocalCluster.builder().home(FlinkRuntime.home());
            overrides.forEach(builder::set);
            LocalCluster cluster = builder.build();
            Instant started = Instant.now();
            System.out.printf("Starting a Flink cluster: 1 JobManager, %d TaskManager(s) ...%n", taskManagers);
            cluster.start(taskManagers);
            if (sqlGateway) {
                cluster.startSqlGateway();
            }
            System.out.printf("Up in %.1f s. Web UI and REST API: %s%n",
                    Duration.between(started, Instant.now()).toMillis() / 1000.0, cluster.restUrl());
            for (LocalCluster.ProcessInfo p : cluster.liveProcesses()) {
                System.out.printf("  %-16s pid %-8d log %s%n", p.name(), p.pid(), cluster.logFile(p.name()));
            }
            if (sqlGateway) {
                System.out.println("  SQL gateway: http://localhost:" + cluster.config().getInt("sql-gateway.endpoint.rest.port", 8083));
            }
            System.out.println("Next: bin/horizons submit all   (then bin/horizons cluster status)");
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = {"Stop the cluster's processes by PID (SIGTERM, then SIGKILL after 30 s) and clean io.tmp.dirs.",
                    "Running jobs end with them; their retained checkpoints stay (bin/horizons submit --from-latest-checkpoint).",
                    "To keep a job's exact position, stop it first: bin/horizons stop JOB --savepoint."})
    static final class Stop implements Callable<Integer> {
        @Override
        public Integer call() {
            LocalCluster cluster = localCluster();
            List<LocalCluster.ProcessInfo> live = cluster.liveProcesses();
            if (live.isEmpty()) {
                System.out.println("No cluster processes are running (" + cluster.runDirectory() + ").");
            }
            LocalCluster.StopReport report = cluster.stop();
            report.stopped().forEach(p -> System.out.println("stopped " + p));
            report.killed().forEach(p -> System.out.println("killed  " + p + " (did not stop within 30 s)"));
            report.cleaned().forEach(d -> System.out.println("cleaned " + d));
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The cluster, its TaskManagers, its jobs with their last checkpoint, and their consumer lag.")
    static final class Status implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Option(names = "--flink-url", paramLabel = "URL", description = "REST address of the cluster (default: the local cluster's, env FLINK_REST_URL)",
                defaultValue = "${env:FLINK_REST_URL}")
        String flinkUrl;

        @Override
        public Integer call() {
            LocalCluster cluster = localCluster();
            FlinkRestClient rest = new FlinkRestClient(flinkUrl != null ? flinkUrl : cluster.restUrl());
            List<LocalCluster.ProcessInfo> processes = flinkUrl == null ? cluster.allProcesses() : List.of();
            try {
                new ClusterStatus(rest, history(cluster), services.bootstrapServers).report(processes)
                        .forEach(System.out::println);
                return 0;
            } catch (FlinkRestClient.ClusterUnreachableException e) {
                System.err.println(e.getMessage());
                if (!processes.isEmpty()) {
                    System.err.println("Processes on record: " + processes.stream()
                            .map(p -> p.name() + " pid " + p.pid() + (p.alive() ? "" : " (dead)")).toList()
                            + "; logs in " + cluster.logDirectory());
                }
                return 1;
            }
        }
    }
}
