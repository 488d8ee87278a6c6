package io.cosmichorizons.verification;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The audit ledger against the ground truth: exactly one entry per accepted event, chains without forks or gaps, and
 * PostgreSQL's own verification of hashes, links and MACs. (The Java {@code LedgerVerifier} lives with the audit job;
 * callers that have it add its verdict as a finding of their own.)
 */
public final class AuditChecks {

    public static final String ONE_ENTRY_PER_EVENT = "audit: exactly one entry per accepted event";
    public static final String NO_FORK_NO_GAP = "audit: no forks, no gaps (one entry per chain and seq, seq 0..n-1, one successor per entry)";
    public static final String CHAINS_VERIFY_SQL = "audit: every chain verifies (PostgreSQL audit_verify: seq, links, hashes, MACs)";

    private AuditChecks() {}

    public static List<Finding> check(PublishedInputs in, OutputSnapshot out) {
        return List.of(oneEntryPerAcceptedEvent(in, out), noForkNoGap(out), chainsVerify(out));
    }

    /** Lifecycle entries are the valid lifecycle events, audit-trail entries the audit-trail events, each once. */
    public static Finding oneEntryPerAcceptedEvent(PublishedInputs in, OutputSnapshot out) {
        String lifecycleTopic = in.truth().run().topics().lifecycle();
        Map<String, Integer> lifecycle = new HashMap<>();
        Map<String, Integer> trail = new HashMap<>();
        for (Map<String, Object> row : out.table(OutputSnapshot.AUDIT_EVENTS)) {
            (lifecycleTopic.equals(row.get("source_topic")) ? lifecycle : trail)
                    .merge((String) row.get("event_id"), 1, Integer::sum);
        }
        List<String> problems = new ArrayList<>();
        compare("lifecycle", in.lifecycleEventIds(), lifecycle, problems);
        compare("audit-trail", in.auditTrailEventIds(), trail, problems);
        long expected = in.lifecycleEventIds().size() + in.auditTrailEventIds().size();
        return Finding.of(ONE_ENTRY_PER_EVENT, expected + " entries", out.table(OutputSnapshot.AUDIT_EVENTS).size()
                + " entries", problems);
    }

    private static void compare(String what, Set<String> expected, Map<String, Integer> actual, List<String> problems) {
        for (String id : new TreeSet<>(expected)) {
            int n = actual.getOrDefault(id, 0);
            if (n != 1) {
                problems.add(what + " event " + id + ": " + n + " entries");
            }
        }
        new TreeSet<>(actual.keySet()).stream().filter(id -> !expected.contains(id))
                .forEach(id -> problems.add(what + " entry " + id + ": not an accepted event"));
    }

    /** Per chain: each seq once, seqs 0..n-1, and no two entries with the same predecessor hash. */
    public static Finding noForkNoGap(OutputSnapshot out) {
        Map<String, TreeMap<Long, Integer>> seqs = new TreeMap<>();
        Map<String, Integer> predecessors = new HashMap<>();
        for (Map<String, Object> row : out.table(OutputSnapshot.AUDIT_EVENTS)) {
            String chain = (String) row.get("chain_id");
            seqs.computeIfAbsent(chain, c -> new TreeMap<>()).merge(((Number) row.get("seq")).longValue(), 1, Integer::sum);
            predecessors.merge(chain + " " + row.get("prev_hash"), 1, Integer::sum);
        }
        List<String> problems = new ArrayList<>();
        seqs.forEach((chain, bySeq) -> {
            bySeq.forEach((seq, n) -> {
                if (n > 1) {
                    problems.add(chain + " seq " + seq + ": " + n + " entries (fork)");
                }
            });
            long expectedSeq = 0;
            for (long seq : bySeq.keySet()) {
                if (seq != expectedSeq) {
                    problems.add(chain + ": gap, seq " + expectedSeq + " missing (next is " + seq + ")");
                    break;
                }
                expectedSeq++;
            }
        });
        predecessors.forEach((k, n) -> {
            if (n > 1) {
                problems.add(k.substring(0, k.indexOf(' ')) + ": " + n + " entries share the predecessor " + k.substring(k.indexOf(' ') + 1));
            }
        });
        return Finding.of(NO_FORK_NO_GAP, "0 problems in " + seqs.size() + " chains", problems.size() + " problems",
                problems);
    }

    /** PostgreSQL's audit_verify found no chain broken. */
    public static Finding chainsVerify(OutputSnapshot out) {
        List<String> broken = new ArrayList<>();
        out.chainVerification().forEach(r -> {
            if (r.get("first_broken_seq") != null) {
                broken.add(r.get("chain_id") + " seq " + r.get("first_broken_seq") + ": " + r.get("problem"));
            }
        });
        int chains = out.chainVerification().size();
        return Finding.of(CHAINS_VERIFY_SQL, chains + " chains verify", (chains - broken.size()) + " chains verify", broken);
    }
}
