package io.cosmichorizons.generator;

/**
 * Receives the ground truth while a workload is planned, so that large workloads can stream it to a file instead of
 * holding it in memory. Calls come in this order: {@link #run}, the preferences, then jobs (in submission order)
 * interleaved with injected records (in publishing order), and {@link #totals} last.
 */
public interface GroundTruthSink {

    void run(GroundTruth.Run run);

    void preference(GroundTruth.Preference preference);

    void job(GroundTruth.Job job);

    void injected(GroundTruth.Injected record);

    void totals(GroundTruth.Totals totals);

    /** A sink that keeps nothing. */
    static GroundTruthSink discard() {
        return new GroundTruthSink() {
            @Override
            public void run(GroundTruth.Run run) {}

            @Override
            public void preference(GroundTruth.Preference preference) {}

            @Override
            public void job(GroundTruth.Job job) {}

            @Override
            public void injected(GroundTruth.Injected record) {}

            @Override
            public void totals(GroundTruth.Totals totals) {}
        };
    }

    /** Passes every call to both sinks. */
    static GroundTruthSink both(GroundTruthSink first, GroundTruthSink second) {
        return new GroundTruthSink() {
            @Override
            public void run(GroundTruth.Run run) {
                first.run(run);
                second.run(run);
            }

            @Override
            public void preference(GroundTruth.Preference preference) {
                first.preference(preference);
                second.preference(preference);
            }

            @Override
            public void job(GroundTruth.Job job) {
                first.job(job);
                second.job(job);
            }

            @Override
            public void injected(GroundTruth.Injected record) {
                first.injected(record);
                second.injected(record);
            }

            @Override
            public void totals(GroundTruth.Totals totals) {
                first.totals(totals);
                second.totals(totals);
            }
        };
    }
}
