package io.cosmichorizons.cli;

import io.cosmichorizons.cluster.FlinkRestClient;
import io.cosmichorizons.cluster.FlinkRuntime;
import io.cosmichorizons.cluster.JobJar;
import io.cosmichorizons.cluster.JobSubmitter;
import io.cosmichorizons.cluster.LocalCluster;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.audit.AuditJob;
import io.cosmichorizons.pipeline.config.Settings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code horizons submit lifecycle|audit|metrics|all}: runs pipeline jobs on a Flink session cluster via REST. */
@Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Upload the shaded job jar to a Flink cluster (POST /jars/upload) and start jobs (POST /jars/:id/run).",
                "The jobs get --kafka.bootstrap-servers and --jdbc.url from --bootstrap-servers/--jdbc-url (or the environment)."})
public final class SubmitCommand implements Callable<Integer> {
    static final String AUDIT_JOB = new AuditJob.Definition().name();

    @Parameters(arity = "1..*", paramLabel = "JOB", description = "Job names (see bin/horizons jobs), or all")
    List<String> names;

    @Option(names = "--savepoint", paramLabel = "PATH", description = "Restore this savepoint or retained checkpoint (one job)")
    String savepoint;

    @Option(names = "--from-latest-checkpoint", description = "Restore each job's newest snapshot: the savepoint it was stopped with, else its last retained checkpoint")
    boolean fromLatest;

    @Option(names = "--allow-non-restored-state", description = "Let a restore skip state of operators the new job no longer has")
    boolean allowNonRestoredState;

    @Option(names = "--parallelism", paramLabel = "N", description = "Operator parallelism (rescaling: stop with a savepoint, resubmit with another N)")
    Integer parallelism;

    @Option(names = "--config", paramLabel = "FILE", description = "A job YAML config file, read by the job on the JobManager (same machine, or a shared path)")
    String config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any job option (repeatable), e.g. --set checkpoint.interval=5s")
    Map<String, String> extra = new LinkedHashMap<>();

    @Option(names = "--jar", paramLabel = "FILE", description = "The job jar (default: jobs/target/horizons-jobs-*-job.jar)")
    Path jar;

    @Option(names = "--flink-url", paramLabel = "URL", description = "REST address of the cluster (default: the local cluster's, env FLINK_REST_URL)",
            defaultValue = "${env:FLINK_REST_URL}")
    String flinkUrl;

    @Mixin
    ServiceOptions services;

    @Option(names = "--audit-jdbc-url", paramLabel = "URL", defaultValue = "${env:AUDIT_JDBC_URL}",
            description = "The audit job's JDBC URL: its own login, a member of horizons_audit_writer (bin/horizons db "
                    + "migrate --audit-login). Env AUDIT_JDBC_URL; default: --jdbc-url")
    String auditJdbcUrl;

    @Override
    public Integer call() {
        List<PipelineJob> jobs = JobSubmitter.resolve(names);
        LocalCluster cluster = ClusterCommand.localCluster();
        FlinkRestClient rest = new FlinkRestClient(flinkUrl != null ? flinkUrl : cluster.restUrl());
        rest.overview(); // fails first, and clearly, when no cluster answers
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(Settings.KAFKA_BOOTSTRAP_SERVERS, services.bootstrapServers);
        settings.put(Settings.JDBC_URL, services.jdbcUrl);
        if (config != null) {
            settings.put("config", Path.of(config).toAbsolutePath().toString());
        }
        settings.putAll(extra);
        Path checkpoints = flinkUrl == null ? cluster.config().localDir("execution.checkpointing.dir") : null;
        JobSubmitter submitter = new JobSubmitter(rest, ClusterCommand.history(cluster), System.out::println)
                .checkpointDirectory(checkpoints);
        List<JobSubmitter.Submitted> submitted = submitter.submit(jar != null ? jar : JobJar.locate(FlinkRuntime.home()), jobs,
                new JobSubmitter.Options(settings, jobSettings(), parallelism, savepoint, fromLatest, allowNonRestoredState));
        System.out.println("Submitted " + submitted.size() + " job(s). Web UI: " + rest.baseUrl() + "/#/job/running");
        return 0;
    }

    /** The audit job writes the ledger as its own restricted login when one is given. */
    Map<String, Map<String, String>> jobSettings() {
        return auditJdbcUrl == null || auditJdbcUrl.isBlank() ? Map.of()
                : Map.of(AUDIT_JOB, Map.of(Settings.JDBC_URL, auditJdbcUrl));
    }
}
