package io.cosmichorizons.cli;

import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.config.Option;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code horizons jobs [NAME]}: the pipeline jobs and their documented options. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "List the pipeline jobs, or show one job's main class and every option it takes.")
public final class JobsCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "JOB", description = "A job name, e.g. lifecycle")
    String name;

    @Override
    public Integer call() {
        if (name == null) {
            for (PipelineJob job : PipelineJobs.ALL) {
                System.out.printf("%-12s %-22s %s%n", job.name(), job.jobName(), job.mainClass().getName());
            }
            return 0;
        }
        PipelineJob job = PipelineJobs.byName(name)
                .orElseThrow(() -> new IllegalArgumentException("No job named '" + name + "'; try: horizons jobs"));
        System.out.println(job.jobName() + " (main class " + job.mainClass().getName() + ")");
        System.out.println("Options (--key value, or in a YAML file given with --config):");
        System.out.print(Option.table(job.options()));
        return 0;
    }
}
