package io.cosmichorizons.verification;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Compares every output of the pipeline jobs that ran with what was published: job_status and notifications with the
 * ground truth, the audit ledger with the accepted events, the metrics outputs and alerts with a batch recomputation,
 * and the dead letters with the injected and fuzzed bad records. Returns findings; never throws on a mismatch.
 */
public final class OutputComparison {
    private OutputComparison() {}

    /**
     * @param ran the jobs whose outputs to check
     * @param rules the metrics job's alert thresholds (its settings), for the expected alerts
     */
    public static Comparison compare(PublishedInputs in, OutputSnapshot out, Set<Pipeline> ran, AlertRules rules) {
        List<Finding> findings = new ArrayList<>();
        if (ran.contains(Pipeline.LIFECYCLE)) {
            findings.addAll(LifecycleChecks.check(in.truth(), out));
        }
        if (ran.contains(Pipeline.AUDIT)) {
            findings.addAll(AuditChecks.check(in, out));
        }
        if (ran.contains(Pipeline.METRICS)) {
            findings.addAll(MetricsChecks.check(in, out, rules));
        }
        findings.addAll(DeadLetterChecks.check(in, out, ran));
        return new Comparison(findings);
    }
}
