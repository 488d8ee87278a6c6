package io.cosmichorizons.verification;

import io.cosmichorizons.events.AuditTrailEvent;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.verification.PublishedInputs.PublishedEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The audit ledger against the ground truth: exactly one entry per accepted event, chains without forks or gaps, every
 * entry equal field by field to the event it records (as read back from the input topics), seq in source-offset
 * order, and PostgreSQL's own verification of hashes, links and MACs. (The Java {@code LedgerVerifier} lives with the
 * audit job; callers that have it add its verdict as a finding of their own.)
 */
public final class AuditChecks {

    public static final String ONE_ENTRY_PER_EVENT = "audit: exactly one entry per accepted event";
    public static final String NO_FORK_NO_GAP = "audit: no forks, no gaps (one entry per chain and seq, seq 0..n-1, one successor per entry)";
    public static final String ENTRIES_EQUAL_EVENTS = "audit: every entry equals its published event (chain, source topic and offset, chain_time, event type, job, actor, correlation id, times, canonical payload)";
    public static final String SEQ_FOLLOWS_OFFSETS = "audit: within each chain, seq increases with the source offset";
    public static final String CHAINS_VERIFY_SQL = "audit: every chain verifies (PostgreSQL audit_verify: seq, links, hashes, MACs)";

    private AuditChecks() {}

    public static List<Finding> check(PublishedInputs in, OutputSnapshot out) {
        return List.of(oneEntryPerAcceptedEvent(in, out), noForkNoGap(out), entriesEqualEvents(in, out),
                seqFollowsOffsets(out), chainsVerify(out));
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

    /**
     * Each entry of an accepted event, found by its event id, holds what the README's audit section says it holds,
     * derived here from the published record: the chain of its input partition, the record's topic, offset and Kafka
     * timestamp, the chain's clock, the event's type, job, actor, correlation id and time, and the event's canonical
     * JSON. Entries of events that were not accepted, and accepted events without an entry, are
     * {@link #oneEntryPerAcceptedEvent}'s to report; a ground-truth lifecycle event that was not read back from its
     * topic is reported here, as its entry cannot be compared.
     */
    public static Finding entriesEqualEvents(PublishedInputs in, OutputSnapshot out) {
        Map<String, PublishedEvent> published = new HashMap<>();
        in.audited().forEach(p -> published.put(p.eventId(), p));
        Map<String, Long> chainTimes = expectedChainTimes(in.audited());
        List<String> problems = new ArrayList<>();
        new TreeSet<>(in.lifecycleEventIds()).stream()
                .filter(id -> !(published.get(id) != null && published.get(id).event() instanceof JobLifecycleEvent))
                .forEach(id -> problems.add("lifecycle event " + id + ": not found on "
                        + in.truth().run().topics().lifecycle() + ", its entry cannot be compared"));
        int compared = 0;
        int equal = 0;
        for (Map<String, Object> row : out.table(OutputSnapshot.AUDIT_EVENTS)) {
            String key = (String) row.get("event_id");
            PublishedEvent p = published.get(key);
            if (p == null) {
                continue;
            }
            compared++;
            int before = problems.size();
            String entry = "event " + p.eventId() + " (" + row.get("chain_id") + " seq " + row.get("seq") + ")";
            expectedEntry(p, chainTimes.get(key)).forEach((column, want) -> {
                Object got = row.get(column);
                if (!Values.same(want, got)) {
                    problems.add(entry + " " + column + ": " + difference(want, got));
                }
            });
            if (problems.size() == before) {
                equal++;
            }
        }
        return Finding.of(ENTRIES_EQUAL_EVENTS, compared + " entries equal", equal + " entries equal", problems);
    }

    /** The columns of the entry of {@code p}, as the contract defines them (README, audit ledger; AuditRecord.avsc). */
    static Map<String, Object> expectedEntry(PublishedEvent p, long chainTime) {
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("chain_id", chainId(p.topic(), p.partition()));
        want.put("source_topic", p.topic());
        want.put("source_offset", p.offset());
        want.put("chain_time", chainTime);
        want.put("kafka_timestamp", p.kafkaTimestamp());
        if (p.event() instanceof JobLifecycleEvent e) {
            want.put("event_type", e.getEventType().name());
            want.put("job_id", e.getJobId());
            want.put("actor", e.getUserId()); // a lifecycle event's actor is the job's user
            want.put("correlation_id", e.getCorrelationId());
            want.put("occurred_at", e.getOccurredAt().toEpochMilli());
        } else {
            AuditTrailEvent a = (AuditTrailEvent) p.event();
            want.put("event_type", a.getAction());
            // "For resource_type job it is the job_id" (AuditTrailEvent.resource_id); other resources have no job.
            want.put("job_id", "job".equals(a.getResourceType()) ? a.getResourceId() : null);
            want.put("actor", a.getActor());
            want.put("correlation_id", a.getCorrelationId());
            want.put("occurred_at", a.getOccurredAt().toEpochMilli());
        }
        want.put("payload", JsonCodec.encodeCanonical(p.event()));
        return want;
    }

    /**
     * The chain of an input partition: {@code <topic>/<partition>}, written out here from the contract (README, "one
     * chain per input partition") rather than taken from the audit job's code, so a change of the id is caught.
     */
    static String chainId(String topic, int partition) {
        return topic + "/" + partition;
    }

    /**
     * chain_time of each accepted event's entry, by event id: the largest Kafka timestamp of its chain's entries up to
     * it, which are the accepted events of its partition up to its offset.
     */
    static Map<String, Long> expectedChainTimes(List<PublishedEvent> audited) {
        Map<String, List<PublishedEvent>> byChain = new HashMap<>();
        audited.forEach(p -> byChain.computeIfAbsent(chainId(p.topic(), p.partition()), c -> new ArrayList<>()).add(p));
        Map<String, Long> times = new HashMap<>();
        byChain.values().forEach(chain -> {
            chain.sort(Comparator.comparingLong(PublishedEvent::offset));
            long max = Long.MIN_VALUE;
            for (PublishedEvent p : chain) {
                max = Math.max(max, p.kafkaTimestamp());
                times.put(p.eventId(), max);
            }
        });
        return times;
    }

    /** "expected X but was Y", or for long texts (payloads) where they first differ. */
    static String difference(Object want, Object got) {
        if (want instanceof String w && got instanceof String g && Math.max(w.length(), g.length()) > 80) {
            int i = 0;
            while (i < w.length() && i < g.length() && w.charAt(i) == g.charAt(i)) {
                i++;
            }
            return "differs from character " + i + ": expected ..." + excerpt(w, i) + "... but was ..." + excerpt(g, i)
                    + "...";
        }
        return "expected " + want + " but was " + got;
    }

    private static String excerpt(String s, int at) {
        return s.substring(Math.max(0, at - 20), Math.min(s.length(), at + 40));
    }

    /**
     * Per chain, in seq order, each entry's source offset is above its predecessor's: a chain records its partition
     * in partition order. (Forks, two entries of one seq, are {@link #noForkNoGap}'s to report.)
     */
    public static Finding seqFollowsOffsets(OutputSnapshot out) {
        Map<String, List<long[]>> byChain = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> row : out.table(OutputSnapshot.AUDIT_EVENTS)) {
            long seq = ((Number) row.get("seq")).longValue();
            if (!(row.get("source_offset") instanceof Number offset)) {
                problems.add(row.get("chain_id") + " seq " + seq + ": no source offset");
                continue;
            }
            byChain.computeIfAbsent((String) row.get("chain_id"), c -> new ArrayList<>())
                    .add(new long[] {seq, offset.longValue()});
        }
        byChain.forEach((chain, entries) -> {
            entries.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
            for (int i = 1; i < entries.size(); i++) {
                long[] prev = entries.get(i - 1);
                long[] cur = entries.get(i);
                if (cur[0] > prev[0] && cur[1] <= prev[1]) {
                    problems.add(chain + " seq " + cur[0] + ": source offset " + cur[1] + ", not after seq " + prev[0]
                            + "'s " + prev[1]);
                }
            }
        });
        return Finding.of(SEQ_FOLLOWS_OFFSETS, "0 problems in " + byChain.size() + " chains",
                problems.size() + " problems", problems);
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
