package io.cosmichorizons.generator;

/** Keeps only the totals the planner reports at the end. */
final class TotalsCapture implements GroundTruthSink {
    private GroundTruth.Totals totals;

    @Override
    public void run(GroundTruth.Run run) {}

    @Override
    public void preference(GroundTruth.Preference preference) {}

    @Override
    public void job(GroundTruth.Job job) {}

    @Override
    public void injected(GroundTruth.Injected record) {}

    @Override
    public void totals(GroundTruth.Totals totals) {
        this.totals = totals;
    }

    GroundTruth.Totals totals() {
        return totals;
    }
}
