package io.cosmichorizons.verification;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.generator.GroundTruth;
import java.util.Locale;
import java.util.Set;

/**
 * The pipeline jobs whose outputs are compared. They share the dead-letter topic and mark their copies by stage: the
 * audit job's stages start with {@code audit-}, the metrics job's with {@code metrics-}, the rest are the lifecycle
 * job's.
 */
public enum Pipeline {
    LIFECYCLE, METRICS, AUDIT;

    public static final Set<Pipeline> ALL = Set.of(values());

    /** The job that wrote a dead letter. */
    public static Pipeline wrote(DeadLetter dl) {
        String stage = dl.getStage();
        return stage.startsWith("audit-") ? AUDIT : stage.startsWith("metrics-") ? METRICS : LIFECYCLE;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The input topics whose bad records this job dead-letters. */
    public Set<String> deadLettersFrom(GroundTruth truth) {
        var t = truth.run().topics();
        return switch (this) {
            case LIFECYCLE -> Set.of(t.lifecycle(), t.notificationPreferences());
            case AUDIT -> Set.of(t.lifecycle(), t.auditTrail());
            case METRICS -> Set.of(t.metrics());
        };
    }
}
