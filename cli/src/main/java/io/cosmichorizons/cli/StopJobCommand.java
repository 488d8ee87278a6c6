package io.cosmichorizons.cli;

import io.cosmichorizons.cluster.FlinkRestClient;
import io.cosmichorizons.cluster.JobSubmitter;
import io.cosmichorizons.cluster.LocalCluster;
import io.cosmichorizons.pipeline.config.Settings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code horizons stop JOB --savepoint [DIR]}: stop-with-savepoint through REST, for upgrades and rescaling. */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Stop a running job. With --savepoint (stop-with-savepoint): sources stop, a final savepoint is",
                "taken, the exactly-once sinks commit, and the savepoint path is printed; resubmit with",
                "bin/horizons submit JOB --savepoint PATH (or --from-latest-checkpoint)."})
public final class StopJobCommand implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "A job name (lifecycle, ...), a Flink job name, or a job id")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    How how;

    static final class How {
        @Option(names = "--savepoint", arity = "0..1", paramLabel = "DIR", fallbackValue = "",
                description = "Stop with a savepoint, in DIR (default: execution.checkpointing.savepoint-dir)")
        String savepoint;

        @Option(names = "--cancel", description = "Cancel without a savepoint (its last retained checkpoint stays)")
        boolean cancel;
    }

    @Option(names = "--timeout", defaultValue = "5m", description = "How long to wait for the savepoint (default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--flink-url", paramLabel = "URL", description = "REST address of the cluster (default: the local cluster's, env FLINK_REST_URL)",
            defaultValue = "${env:FLINK_REST_URL}")
    String flinkUrl;

    @Override
    public Integer call() {
        LocalCluster cluster = ClusterCommand.localCluster();
        FlinkRestClient rest = new FlinkRestClient(flinkUrl != null ? flinkUrl : cluster.restUrl());
        JobSubmitter submitter = new JobSubmitter(rest, ClusterCommand.history(cluster), System.out::println);
        if (how.cancel) {
            FlinkRestClient.JobSummary job = submitter.runningJob(name);
            rest.cancel(job.id());
            System.out.println("Cancelled " + job.name() + " (" + job.id() + ")");
            return 0;
        }
        String dir = how.savepoint == null || how.savepoint.isEmpty() ? null
                : how.savepoint.contains("://") ? how.savepoint : Path.of(how.savepoint).toAbsolutePath().toUri().toString();
        String savepoint = submitter.stopWithSavepoint(name, dir, Settings.parseDuration(timeout));
        System.out.println("Savepoint: " + savepoint);
        return 0;
    }
}
