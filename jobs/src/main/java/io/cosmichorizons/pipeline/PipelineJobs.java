package io.cosmichorizons.pipeline;

import io.cosmichorizons.pipeline.audit.AuditJob;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJob;
import io.cosmichorizons.pipeline.metrics.MetricsJob;
import java.util.List;
import java.util.Optional;

/** Every pipeline job that exists; the demo and the submit command run all of them. */
public final class PipelineJobs {
    public static final List<PipelineJob> ALL =
            List.of(new LifecycleJob.Definition(), new MetricsJob.Definition(), new AuditJob.Definition());

    private PipelineJobs() {}

    public static Optional<PipelineJob> byName(String name) {
        return ALL.stream().filter(j -> j.name().equals(name)).findFirst();
    }
}
