package io.cosmichorizons.generator;

/** Receives progress reports during {@link WorkloadGenerator#run}, on the publishing thread: keep it quick. */
@FunctionalInterface
public interface ProgressListener {
    void onProgress(GenerationProgress progress);
}
