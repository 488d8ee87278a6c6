package io.cosmichorizons.pipeline.audit.ledger;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.postgresql.PGStatement;

/**
 * Verifies the ledger: per chain the sequence (no gaps, no duplicates), the links (prev_hash = the previous entry's
 * hash), every hash (recomputed from the entry's columns, never trusting database functions), every MAC; and the
 * anchors: their own chain (seq, prev_anchor_hash, anchor_hash), their Merkle roots, their Ed25519 signatures under
 * trusted public keys, and that every anchored head is still there with the same hash (which is what detects a
 * truncated tail or a dropped chain). Chains are verified in parallel, each streamed in seq order.
 */
public final class LedgerVerifier {

    /** What can be wrong. */
    public enum Kind {
        SEQUENCE_GAP("entries are missing"),
        DUPLICATE_SEQ("two entries claim the same seq"),
        BROKEN_LINK("prev_hash is not the previous entry's hash"),
        HASH_MISMATCH("the content does not match the stored hash"),
        MAC_MISMATCH("the MAC does not match the hash (changed without the key)"),
        UNKNOWN_MAC_KEY("the MAC key id is not known to the verifier"),
        TRUNCATED("entries after the last one are missing, but an anchor recorded them"),
        CHAIN_MISSING("the chain has no entries, but an anchor recorded it"),
        ANCHOR_HEAD_MISMATCH("the entry differs from the head an anchor recorded"),
        ANCHOR_SEQUENCE_GAP("anchors are missing or out of order"),
        ANCHOR_LINK_BROKEN("prev_anchor_hash is not the previous anchor's hash"),
        ANCHOR_HASH_MISMATCH("anchor_hash does not match the anchor's content"),
        ANCHOR_MERKLE_MISMATCH("the Merkle root does not match the stored heads"),
        ANCHOR_SIGNATURE_INVALID("the Ed25519 signature is invalid"),
        ANCHOR_UNTRUSTED_KEY("signed by a key the verifier does not trust"),
        ANCHOR_NOT_VERIFIABLE("anchors exist but no trusted public key was given"),
        ANCHOR_HEAD_REGRESSED("a chain's head went backwards or vanished between anchors");

        private final String meaning;

        Kind(String meaning) {
            this.meaning = meaning;
        }

        public String meaning() {
            return meaning;
        }
    }

    /** One finding, located by chain and seq, or by anchor. */
    public record Problem(Kind kind, String chainId, Long seq, Long anchorSeq, String detail) {
        public String describe() {
            StringBuilder sb = new StringBuilder();
            if (chainId != null) {
                sb.append("chain ").append(chainId);
                if (seq != null) {
                    sb.append(" seq ").append(seq);
                }
            }
            if (anchorSeq != null) {
                sb.append(sb.length() > 0 ? ", " : "").append("anchor #").append(anchorSeq);
            }
            sb.append(": ").append(kind).append(" - ").append(kind.meaning());
            if (detail != null && !detail.isEmpty()) {
                sb.append(" (").append(detail).append(')');
            }
            return sb.toString();
        }
    }

    /**
     * What to verify and with which keys.
     *
     * @param macKeys MAC keys by key id; empty with {@code checkMacs} false skips MACs
     * @param anchorKeys trusted Ed25519 public keys
     * @param chainId only this chain (null: all)
     * @param jobId only the chains holding this job's entries (null: all)
     * @param since start each chain at its head in the latest anchor made at or before this time (null: from the start)
     * @param fromLatestAnchor start each chain at its head in the latest anchor (the anchor command's incremental check)
     * @param threads chains verified in parallel
     */
    public record Options(Map<String, byte[]> macKeys, boolean checkMacs, List<PublicKey> anchorKeys, String chainId,
            String jobId, Instant since, boolean fromLatestAnchor, int threads) {
        public Options {
            macKeys = Map.copyOf(macKeys);
            anchorKeys = List.copyOf(anchorKeys);
            threads = Math.max(1, threads);
        }

        public static Options of(List<MacKey> macKeys, List<PublicKey> anchorKeys) {
            Map<String, byte[]> byId = new HashMap<>();
            macKeys.forEach(k -> byId.put(k.id(), k.key()));
            // One connection more than cores: while one waits for PostgreSQL, another hashes.
            return new Options(byId, true, anchorKeys, null, null, null, false,
                    Math.min(4, Runtime.getRuntime().availableProcessors() + 1));
        }

        public Options withChain(String chain) {
            return new Options(macKeys, checkMacs, anchorKeys, chain, jobId, since, fromLatestAnchor, threads);
        }

        public Options withJob(String job) {
            return new Options(macKeys, checkMacs, anchorKeys, chainId, job, since, fromLatestAnchor, threads);
        }

        public Options withSince(Instant t) {
            return new Options(macKeys, checkMacs, anchorKeys, chainId, jobId, t, fromLatestAnchor, threads);
        }

        public Options startingAtLatestAnchor() {
            return new Options(macKeys, checkMacs, anchorKeys, chainId, jobId, since, true, threads);
        }

        public Options withoutMacs() {
            return new Options(Map.of(), false, anchorKeys, chainId, jobId, since, fromLatestAnchor, threads);
        }

        public Options withThreads(int n) {
            return new Options(macKeys, checkMacs, anchorKeys, chainId, jobId, since, fromLatestAnchor, n);
        }
    }

    /**
     * The outcome for one chain.
     *
     * @param startSeq the first seq verified (after a retention cut or an anchor head)
     * @param head the chain's last verified entry, or the head it started from when no entry followed (null if none)
     * @param problems the first problems in seq order (at most {@link #MAX_PROBLEMS_PER_CHAIN}); the first one is the
     *     first broken place
     */
    public record ChainResult(String chainId, long startSeq, long entries, Anchor.Head head, List<Problem> problems,
            long problemCount, Long anchoredSeq) {
        public boolean clean() {
            return problemCount == 0;
        }

        /** The lowest seq at which something is wrong, or null. */
        public Long firstBrokenSeq() {
            return problems.stream().map(Problem::seq).filter(java.util.Objects::nonNull).min(Long::compare).orElse(null);
        }
    }

    /** The whole verdict. */
    public record Report(List<ChainResult> chains, List<Problem> anchorProblems, int anchors, long entries,
            Duration elapsed, boolean macsChecked, boolean signaturesChecked, String scope) {
        public boolean clean() {
            return anchorProblems.isEmpty() && chains.stream().allMatch(ChainResult::clean);
        }

        public List<ChainResult> brokenChains() {
            return chains.stream().filter(c -> !c.clean()).toList();
        }

        public double entriesPerSecond() {
            return entries / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }

        /** Every problem, anchors first. */
        public List<Problem> allProblems() {
            List<Problem> all = new ArrayList<>(anchorProblems);
            chains.forEach(c -> all.addAll(c.problems()));
            return all;
        }

        /** The human-readable verdict. */
        public String render() {
            StringBuilder sb = new StringBuilder();
            List<ChainResult> broken = brokenChains();
            sb.append("Audit ledger verification: ").append(clean() ? "CLEAN" : "BROKEN");
            if (!clean()) {
                sb.append(" (").append(broken.size()).append(" of ").append(chains.size()).append(" chains broken, ")
                        .append(anchorProblems.size()).append(" anchor problem(s))");
            }
            sb.append('\n');
            sb.append(String.format("  scope: %s%n", scope));
            sb.append(String.format("  %,d entries in %d chains, %d anchors; %.2f s (%,.0f entries/s)%n", entries,
                    chains.size(), anchors, elapsed.toNanos() / 1e9, entriesPerSecond()));
            sb.append("  checked: sequence, links, hashes").append(macsChecked ? ", MACs" : " (MACs NOT checked)")
                    .append(signaturesChecked ? ", anchor signatures" : anchors > 0 ? " (anchor signatures NOT checked)" : "")
                    .append(", anchored heads\n");
            for (Problem p : anchorProblems) {
                sb.append("  ").append(p.describe()).append('\n');
            }
            for (ChainResult c : broken) {
                Problem first = c.problems().get(0);
                sb.append("  chain ").append(c.chainId()).append(": BROKEN - first at ").append(first.describe())
                        .append(c.problemCount() > 1 ? "; " + c.problemCount() + " problems in total" : "").append('\n');
            }
            return sb.toString();
        }
    }

    public static final int MAX_PROBLEMS_PER_CHAIN = 100;

    private static final String ENTRIES = """
            SELECT seq, chain_time, source_topic, source_offset, kafka_timestamp, event_id, event_type, job_id, actor,
                correlation_id, occurred_at, payload, prev_hash, hash, mac, key_id
            FROM audit_events WHERE chain_id = ? AND seq >= ? ORDER BY seq""";

    /** Distinct chain ids via a loose index scan (one probe per chain instead of reading every entry). */
    private static final String CHAINS = """
            WITH RECURSIVE c(chain_id) AS (
                SELECT min(chain_id) FROM audit_events
                UNION ALL
                SELECT (SELECT min(e.chain_id) FROM audit_events e WHERE e.chain_id > c.chain_id)
                FROM c WHERE c.chain_id IS NOT NULL)
            SELECT chain_id FROM c WHERE chain_id IS NOT NULL""";

    private final String jdbcUrl;
    private final Options options;

    public LedgerVerifier(String jdbcUrl, Options options) {
        this.jdbcUrl = jdbcUrl;
        this.options = options;
    }

    /**
     * Runs the verification in one database snapshot (exported to every worker connection), so entries the job
     * appends meanwhile never make a chain look inconsistent.
     *
     * <p>A full verification first takes the fast path: the day partitions are scanned in physical order, split into
     * block ranges across the workers, and every range checks the runs of each chain it holds (consecutive seqs,
     * links, hashes, MACs, anchored heads); the runs are then stitched per chain, by seq. Entries of an append-only
     * table lie mostly in insertion order, which is seq order per chain; concurrent inserters can still place a later
     * entry in an earlier page, which only splits a run. So a clean ledger needs one pass over the table. Any chain
     * whose runs do not fit, or that has any problem, is re-verified on the ordered path (its entries by seq), which
     * is also what locates the first broken place. Filtered and incremental verifications take the ordered path.
     */
    public Report verify() throws SQLException, InterruptedException {
        long t0 = System.nanoTime();
        List<Anchor> anchors;
        Set<String> chains = new TreeSet<>();
        List<ScanUnit> units = new ArrayList<>();
        boolean fullScan = options.chainId() == null && options.jobId() == null && options.since() == null
                && !options.fromLatestAnchor();
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            String snapshot;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_export_snapshot()")) {
                rs.next();
                snapshot = rs.getString(1);
            }
            anchors = AnchorStore.loadAll(c);
            if (options.jobId() != null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT chain_id FROM audit_events WHERE job_id = ?")) {
                    ps.setString(1, options.jobId());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            chains.add(rs.getString(1));
                        }
                    }
                }
            } else {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(CHAINS)) {
                    while (rs.next()) {
                        chains.add(rs.getString(1));
                    }
                }
                anchors.forEach(a -> a.heads().forEach(h -> chains.add(h.chainId())));
            }
            if (options.chainId() != null) {
                chains.retainAll(Set.of(options.chainId()));
                if (options.jobId() == null) {
                    chains.add(options.chainId());
                }
            }
            if (fullScan) {
                units = scanUnits(c);
            }
            List<Problem> anchorProblems = verifyAnchors(anchors);
            Map<String, Anchor.Head> cuts = latestHeads(anchors, Anchor.RETENTION, null);
            Map<String, Anchor.Head> starts = new HashMap<>(cuts);
            if (options.fromLatestAnchor() || options.since() != null) {
                latestHeads(anchors, Anchor.PERIODIC, options.since()).forEach((chain, head) -> {
                    Anchor.Head cut = starts.get(chain);
                    if (cut == null || head.seq() > cut.seq()) {
                        starts.put(chain, head);
                    }
                });
            }
            Map<String, ChainResult> results = new java.util.concurrent.ConcurrentHashMap<>();
            Set<String> ordered = new TreeSet<>(chains);
            if (fullScan) {
                Map<String, List<Run>> runs = new java.util.concurrent.ConcurrentHashMap<>();
                ConcurrentLinkedQueue<ScanUnit> todo = new ConcurrentLinkedQueue<>(units);
                Map<String, Map<Long, byte[]>> anchored = anchoredHeads(anchors);
                parallel(snapshot, Math.min(options.threads(), Math.max(1, units.size())), w -> {
                    RunScan scan = new RunScan(options, anchored);
                    ScanUnit unit;
                    while ((unit = todo.poll()) != null) {
                        for (Run run : scan.run(w, unit)) {
                            runs.computeIfAbsent(run.chainId, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(run);
                        }
                    }
                });
                for (String chain : chains) {
                    ChainResult stitched = stitch(chain, runs.getOrDefault(chain, List.of()), starts.get(chain), anchors);
                    if (stitched != null) {
                        results.put(chain, stitched);
                        ordered.remove(chain);
                    }
                }
                // Chains that only the fast path saw (entries but neither listed nor anchored) cannot exist: the
                // chain list comes from the same snapshot.
            }
            ConcurrentLinkedQueue<String> todo = new ConcurrentLinkedQueue<>(ordered);
            parallel(snapshot, Math.min(options.threads(), Math.max(1, ordered.size())), w -> {
                ChainCheck check = new ChainCheck(options);
                String chain;
                while ((chain = todo.poll()) != null) {
                    results.put(chain, check.run(w, chain, starts.get(chain), cuts.get(chain), anchors));
                }
            });
            c.rollback();
            List<ChainResult> byChain = new ArrayList<>(results.values());
            byChain.sort(Comparator.comparing(ChainResult::chainId));
            long entries = byChain.stream().mapToLong(ChainResult::entries).sum();
            boolean signatures = !options.anchorKeys().isEmpty();
            String scope = scope() + (fullScan ? "; " + (chains.size() - ordered.size()) + " chain(s) verified in one "
                    + "physical-order pass, " + ordered.size() + " re-read in seq order" : "");
            return new Report(byChain, anchorProblems, anchors.size(), entries, Duration.ofNanos(System.nanoTime() - t0),
                    options.checkMacs(), signatures && !anchors.isEmpty(), scope);
        }
    }

    /** Work for one verifier connection, inside the shared snapshot. */
    private interface Work {
        void run(Connection c) throws Exception;
    }

    /** Runs {@code work} on {@code threads} connections that all see the exported snapshot. */
    private void parallel(String snapshot, int threads, Work work) throws SQLException, InterruptedException {
        AtomicReference<Exception> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(jdbcUrl)) {
                    try (Statement s = c.createStatement()) {
                        // A scan that joins another one midway would not start at the first block.
                        s.execute("SET synchronize_seqscans = off");
                    }
                    c.setAutoCommit(false); // cursors: entries stream instead of loading at once
                    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                    try (Statement s = c.createStatement()) {
                        s.execute("SET TRANSACTION SNAPSHOT '" + snapshot + "'");
                    }
                    work.run(c);
                    c.rollback();
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }, "ledger-verifier-" + i);
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join();
        }
        if (failure.get() != null) {
            Exception e = failure.get();
            throw e instanceof SQLException sql ? sql : new SQLException("Verification failed: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ fast path

    /** A block range of one day partition; {@code toBlock} -1 means to the end. */
    record ScanUnit(int order, String partition, long fromBlock, long toBlock) {}

    /** Splits every day partition into block ranges: about four per worker, and at least 8 MiB each. */
    private List<ScanUnit> scanUnits(Connection c) throws SQLException {
        List<String> partitions = new ArrayList<>();
        List<Long> blocks = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT partition_name, pg_relation_size(partition_name::regclass) / current_setting('block_size')::int "
                        + "FROM audit_partitions ORDER BY day")) {
            while (rs.next()) {
                partitions.add(rs.getString(1));
                blocks.add(rs.getLong(2));
            }
        }
        long total = blocks.stream().mapToLong(Long::longValue).sum();
        long unitBlocks = Math.max(1024, total / Math.max(1, options.threads() * 4L) + 1);
        List<ScanUnit> units = new ArrayList<>();
        for (int p = 0; p < partitions.size(); p++) {
            long from = 0;
            do {
                long to = from + unitBlocks;
                boolean last = to >= blocks.get(p);
                units.add(new ScanUnit(units.size(), partitions.get(p), from, last ? -1 : to));
                from = to;
            } while (from < blocks.get(p));
        }
        return units;
    }

    /** Anchored heads by chain and seq: each such entry must carry the anchored hash. */
    private static Map<String, Map<Long, byte[]>> anchoredHeads(List<Anchor> anchors) {
        Map<String, Map<Long, byte[]>> heads = new HashMap<>();
        for (Anchor a : anchors) {
            if (!a.isRetention()) {
                a.heads().forEach(h -> heads.computeIfAbsent(h.chainId(), k -> new HashMap<>()).merge(h.seq(), h.hash(),
                        // two anchors disagreeing about one entry: keep a value no entry can match
                        (x, y) -> Arrays.equals(x, y) ? x : new byte[0]));
            }
        }
        return heads;
    }

    /** A run of one chain's consecutive, linked, valid entries within one scan unit. */
    static final class Run {
        final String chainId;
        long firstSeq = -1;
        byte[] firstPrev;
        long lastSeq = -1;
        byte[] lastHash;
        long lastChainTime;
        long lastOffset;
        long count;
        boolean ok = true;
        /** Runs this chain has started in the unit so far. */
        int runsInUnit;

        Run(String chainId) {
            this.chainId = chainId;
        }
    }

    /** Beyond this many runs of one chain in one scan unit, the chain is verified on the ordered path instead. */
    static final int MAX_RUNS_PER_CHAIN_AND_UNIT = 10_000;

    /** Scans units and checks each chain's entries within a unit. */
    private static final class RunScan {
        private final Options options;
        private final Map<String, Map<Long, byte[]>> anchored;
        private final CanonicalRecord canonical = new CanonicalRecord();
        private final LedgerCrypto crypto = new LedgerCrypto();
        private final KeyLookup keys;

        RunScan(Options options, Map<String, Map<Long, byte[]>> anchored) {
            this.options = options;
            this.anchored = anchored;
            this.keys = new KeyLookup(options.macKeys());
        }

        List<Run> run(Connection c, ScanUnit unit) throws SQLException {
            String range = "ctid >= '(" + unit.fromBlock() + ",0)'::tid"
                    + (unit.toBlock() < 0 ? "" : " AND ctid < '(" + unit.toBlock() + ",0)'::tid");
            Map<String, Run> runs = new java.util.LinkedHashMap<>();
            List<Run> all = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT chain_id, seq, chain_time, source_topic, "
                    + "source_offset, kafka_timestamp, event_id, event_type, job_id, actor, correlation_id, occurred_at, "
                    + "payload, prev_hash, hash, mac, key_id FROM " + unit.partition() + " WHERE " + range)) {
                ps.unwrap(PGStatement.class).setPrepareThreshold(-1);
                ps.setFetchSize(5_000);
                try (ResultSet rs = ps.executeQuery()) {
                    String lastChain = null;
                    byte[] lastChainBytes = null;
                    Run run = null;
                    while (rs.next()) {
                        byte[] chainBytes = rs.getBytes(1);
                        if (lastChainBytes == null || !Arrays.equals(chainBytes, lastChainBytes)) {
                            lastChain = new String(chainBytes, StandardCharsets.UTF_8);
                            lastChainBytes = chainBytes;
                            String chainId = lastChain;
                            run = runs.computeIfAbsent(chainId, k -> {
                                Run r = new Run(k);
                                all.add(r);
                                return r;
                            });
                        }
                        if (!run.ok) {
                            run.count++;
                            continue; // this chain goes to the ordered path anyway
                        }
                        long seq = rs.getLong(2);
                        byte[] prevHash = rs.getBytes(14);
                        byte[] hash = rs.getBytes(15);
                        if (run.lastSeq >= 0 && seq != run.lastSeq + 1) {
                            // Not the next entry in physical order: concurrent inserters (the sink's subtasks) fill
                            // the pages out of order. A run of its own; stitching joins the runs by seq.
                            if (++run.runsInUnit > MAX_RUNS_PER_CHAIN_AND_UNIT) {
                                run.ok = false; // scattered entries: the ordered path is cheaper than many runs
                                run.count++;
                                continue;
                            }
                            Run next = new Run(run.chainId);
                            next.runsInUnit = run.runsInUnit;
                            runs.put(run.chainId, next);
                            all.add(next);
                            run = next;
                        } else if (run.lastSeq >= 0 && !Arrays.equals(prevHash, run.lastHash)) {
                            run.ok = false;
                            run.count++;
                            continue;
                        }
                        run.count++;
                        long chainTime = millis(rs, 3);
                        canonical.entry(chainBytes, seq, chainTime, rs.getBytes(4), rs.getLong(5),
                                millis(rs, 6), rs.getBytes(7), rs.getBytes(8), rs.getBytes(9),
                                rs.getBytes(10), rs.getBytes(11), millis(rs, 12), rs.getBytes(13));
                        if (!Arrays.equals(crypto.hash(prevHash, canonical), hash)) {
                            run.ok = false;
                            continue;
                        }
                        if (options.checkMacs()) {
                            byte[] key = keys.key(rs.getBytes(17));
                            if (key == null || !LedgerCrypto.same(crypto.mac(key, hash), rs.getBytes(16))) {
                                run.ok = false;
                                continue;
                            }
                        }
                        Map<Long, byte[]> heads = anchored.get(lastChain);
                        if (heads != null) {
                            byte[] expected = heads.get(seq);
                            if (expected != null && !Arrays.equals(expected, hash)) {
                                run.ok = false;
                                continue;
                            }
                        }
                        if (run.firstSeq < 0) {
                            run.firstSeq = seq;
                            run.firstPrev = prevHash;
                        }
                        run.lastSeq = seq;
                        run.lastHash = hash;
                        run.lastChainTime = chainTime;
                        run.lastOffset = rs.getLong(5);
                    }
                }
            }
            return all;
        }
    }

    /**
     * Joins a chain's runs; returns its clean result, or null when the chain needs the ordered path (a run with a
     * problem, runs that do not link, a wrong start, or a head an anchor recorded that is missing).
     */
    private static ChainResult stitch(String chainId, List<Run> runs, Anchor.Head start, List<Anchor> anchors) {
        if (runs.isEmpty()) {
            return null;
        }
        if (runs.stream().anyMatch(r -> !r.ok)) {
            return null;
        }
        // By seq, not by position: a chain's entries need not lie in seq order on disk (see RunScan).
        List<Run> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingLong(r -> r.firstSeq));
        long expected = start == null ? 0 : start.seq() + 1;
        byte[] prev = start == null ? LedgerCrypto.zeroHash() : start.hash();
        long entries = 0;
        Run last = null;
        for (Run r : sorted) {
            if (!r.ok || r.firstSeq != expected || !Arrays.equals(r.firstPrev, prev)) {
                return null;
            }
            expected = r.lastSeq + 1;
            prev = r.lastHash;
            entries += r.count;
            last = r;
        }
        Long anchoredSeq = null;
        for (Anchor a : anchors) {
            if (a.isRetention()) {
                continue;
            }
            for (Anchor.Head h : a.heads()) {
                if (h.chainId().equals(chainId)) {
                    anchoredSeq = h.seq();
                    if (h.seq() > last.lastSeq) {
                        return null; // truncated: let the ordered path say where
                    }
                }
            }
        }
        Anchor.Head head = new Anchor.Head(chainId, last.lastSeq, last.lastHash, last.lastChainTime, last.lastOffset);
        return new ChainResult(chainId, start == null ? 0 : start.seq() + 1, entries, head, List.of(), 0, anchoredSeq);
    }

    private String scope() {
        List<String> parts = new ArrayList<>();
        parts.add(options.chainId() != null ? "chain " + options.chainId() : options.jobId() != null
                ? "chains holding job " + options.jobId() : "all chains");
        if (options.fromLatestAnchor()) {
            parts.add("entries after the latest anchor");
        } else if (options.since() != null) {
            parts.add("entries after the last anchor made before " + options.since());
        } else {
            parts.add("every entry (after the retention cut, if any)");
        }
        return String.join(", ", parts);
    }

    /** Each chain's head in the latest anchor of this kind (made at or before {@code notAfter}, if given). */
    static Map<String, Anchor.Head> latestHeads(List<Anchor> anchors, String kind, Instant notAfter) {
        Map<String, Anchor.Head> heads = new HashMap<>();
        for (Anchor a : anchors) {
            if (a.kind().equals(kind) && (notAfter == null || !a.createdAt().isAfter(notAfter))) {
                a.heads().forEach(h -> heads.put(h.chainId(), h));
            }
        }
        return heads;
    }

    // ------------------------------------------------------------------------------------------------ anchors

    private List<Problem> verifyAnchors(List<Anchor> anchors) {
        List<Problem> problems = new ArrayList<>();
        LedgerCrypto crypto = new LedgerCrypto();
        Map<String, PublicKey> trusted = new HashMap<>();
        options.anchorKeys().forEach(k -> trusted.put(AnchorKeys.keyId(k), k));
        if (!anchors.isEmpty() && trusted.isEmpty()) {
            problems.add(new Problem(Kind.ANCHOR_NOT_VERIFIABLE, null, null, null,
                    anchors.size() + " anchors; give the anchor public key (--anchor-key FILE)"));
        }
        Anchor previous = null;
        Map<String, Anchor.Head> lastPeriodic = new HashMap<>();
        Map<String, Anchor.Head> lastCut = new HashMap<>();
        for (int i = 0; i < anchors.size(); i++) {
            Anchor a = anchors.get(i);
            if (a.seq() != i + 1) {
                problems.add(new Problem(Kind.ANCHOR_SEQUENCE_GAP, null, null, a.seq(),
                        "expected anchor #" + (i + 1) + " here"));
            }
            byte[] expectedPrev = previous == null ? LedgerCrypto.zeroHash() : previous.anchorHash();
            if (!Arrays.equals(expectedPrev, a.prevAnchorHash())) {
                problems.add(new Problem(Kind.ANCHOR_LINK_BROKEN, null, null, a.seq(), null));
            }
            if (!Arrays.equals(Anchor.merkleRoot(a.heads()), a.merkleRoot())) {
                problems.add(new Problem(Kind.ANCHOR_MERKLE_MISMATCH, null, null, a.seq(), a.heads().size() + " heads stored"));
            }
            if (!Arrays.equals(crypto.sha256(a.signedBytes()), a.anchorHash())) {
                problems.add(new Problem(Kind.ANCHOR_HASH_MISMATCH, null, null, a.seq(), null));
            }
            if (!trusted.isEmpty()) {
                PublicKey key = trusted.get(a.keyId());
                if (key == null) {
                    problems.add(new Problem(Kind.ANCHOR_UNTRUSTED_KEY, null, null, a.seq(), "key id " + a.keyId()));
                } else if (!a.signatureValid(key)) {
                    problems.add(new Problem(Kind.ANCHOR_SIGNATURE_INVALID, null, null, a.seq(), "key id " + a.keyId()));
                }
            }
            Map<String, Anchor.Head> last = a.isRetention() ? lastCut : lastPeriodic;
            Map<String, Anchor.Head> now = new HashMap<>();
            a.heads().forEach(h -> now.put(h.chainId(), h));
            for (Anchor.Head before : last.values()) {
                Anchor.Head after = now.get(before.chainId());
                if (after == null || after.seq() < before.seq()
                        || (after.seq() == before.seq() && !Arrays.equals(after.hash(), before.hash()))) {
                    problems.add(new Problem(Kind.ANCHOR_HEAD_REGRESSED, before.chainId(), before.seq(), a.seq(),
                            after == null ? "chain no longer listed" : "now at seq " + after.seq()));
                }
            }
            last.clear();
            last.putAll(now);
            previous = a;
        }
        return problems;
    }

    // ------------------------------------------------------------------------------------------------ chains

    /** Streams one chain and checks every entry; reusable across chains on one thread. */
    private static final class ChainCheck {
        private final Options options;
        private final CanonicalRecord canonical = new CanonicalRecord();
        private final LedgerCrypto crypto = new LedgerCrypto();
        private final KeyLookup keys;

        ChainCheck(Options options) {
            this.options = options;
            this.keys = new KeyLookup(options.macKeys());
        }

        ChainResult run(Connection c, String chainId, Anchor.Head start, Anchor.Head cut, List<Anchor> anchors)
                throws SQLException {
            long startSeq = start == null ? 0 : start.seq() + 1;
            byte[] prev = start == null ? LedgerCrypto.zeroHash() : start.hash();
            long cutSeq = cut == null ? -1 : cut.seq();
            // Starting at an anchored head (incremental verification): that entry must still be there, unchanged.
            boolean fromAnchor = start != null && start.seq() > cutSeq;
            boolean anchorHeadSeen = false;
            // Heads that anchors recorded for this chain beyond the start: each must still be there, unchanged.
            TreeMap<Long, List<long[]>> anchored = new TreeMap<>();
            Map<Long, byte[]> anchoredHash = new HashMap<>();
            Long latestAnchoredSeq = null;
            long latestAnchor = -1;
            for (Anchor a : anchors) {
                if (a.isRetention()) {
                    continue;
                }
                for (Anchor.Head h : a.heads()) {
                    if (h.chainId().equals(chainId)) {
                        latestAnchoredSeq = h.seq();
                        latestAnchor = a.seq();
                        if (h.seq() >= startSeq && h.seq() > cutSeq) {
                            anchored.computeIfAbsent(h.seq(), k -> new ArrayList<>()).add(new long[] {a.seq()});
                            anchoredHash.put(a.seq(), h.hash());
                        } else if (h.seq() == cutSeq && !Arrays.equals(h.hash(), cut.hash())) {
                            // An anchored head at the cut must be the entry the retention anchor recorded.
                            report(new Problem(Kind.ANCHOR_HEAD_MISMATCH, chainId, h.seq(), a.seq(),
                                    "differs from the retention anchor's head at the cut"));
                        }
                    }
                }
            }
            byte[] chainIdBytes = chainId.getBytes(StandardCharsets.UTF_8);
            long expected = startSeq;
            long entries = 0;
            long lastSeq = -1;
            Anchor.Head head = start;
            try (PreparedStatement ps = c.prepareStatement(ENTRIES)) {
                ps.unwrap(PGStatement.class).setPrepareThreshold(-1); // binary transfer: bytea as raw bytes
                ps.setFetchSize(5_000);
                ps.setString(1, chainId);
                ps.setLong(2, fromAnchor ? start.seq() : startSeq);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long seq = rs.getLong(1);
                        long chainTime = millis(rs, 2);
                        long sourceOffset = rs.getLong(4);
                        byte[] prevHash = rs.getBytes(13);
                        byte[] hash = rs.getBytes(14);
                        if (fromAnchor && seq == start.seq()) {
                            anchorHeadSeen = true;
                            canonical.entry(chainIdBytes, seq, chainTime, rs.getBytes(3), sourceOffset,
                                    millis(rs, 5), rs.getBytes(6), rs.getBytes(7), rs.getBytes(8),
                                    rs.getBytes(9), rs.getBytes(10), millis(rs, 11), rs.getBytes(12));
                            if (!Arrays.equals(hash, start.hash()) || !Arrays.equals(crypto.hash(prevHash, canonical), hash)) {
                                report(new Problem(Kind.ANCHOR_HEAD_MISMATCH, chainId, seq, null,
                                        "the anchored head entry was changed"));
                            }
                            continue;
                        }
                        entries++;
                        if (seq < expected) {
                            report(new Problem(Kind.DUPLICATE_SEQ, chainId, seq, null,
                                    "another entry with this seq came first"));
                            continue;
                        }
                        if (seq > expected) {
                            report(new Problem(Kind.SEQUENCE_GAP, chainId, expected, null, seq - expected == 1
                                    ? "seq " + expected + " is missing" : "seq " + expected + ".." + (seq - 1) + " are missing"));
                        } else if (!Arrays.equals(prevHash, prev)) {
                            report(new Problem(Kind.BROKEN_LINK, chainId, seq, null, "prev_hash " + shortHex(prevHash)
                                    + ", previous entry's hash " + shortHex(prev)));
                        }
                        canonical.entry(chainIdBytes, seq, chainTime, rs.getBytes(3), sourceOffset,
                                millis(rs, 5), rs.getBytes(6), rs.getBytes(7), rs.getBytes(8),
                                rs.getBytes(9), rs.getBytes(10), millis(rs, 11), rs.getBytes(12));
                        if (!Arrays.equals(crypto.hash(prevHash, canonical), hash)) {
                            report(new Problem(Kind.HASH_MISMATCH, chainId, seq, null, "stored " + shortHex(hash)));
                        }
                        if (options.checkMacs()) {
                            byte[] key = keys.key(rs.getBytes(16));
                            if (key == null) {
                                report(new Problem(Kind.UNKNOWN_MAC_KEY, chainId, seq, null, "key id " + keys.lastName()));
                            } else if (!LedgerCrypto.same(crypto.mac(key, hash), rs.getBytes(15))) {
                                report(new Problem(Kind.MAC_MISMATCH, chainId, seq, null, "key id " + keys.lastName()));
                            }
                        }
                        List<long[]> anchorsHere = anchored.remove(seq);
                        if (anchorsHere != null) {
                            for (long[] anchorSeq : anchorsHere) {
                                if (!Arrays.equals(anchoredHash.get(anchorSeq[0]), hash)) {
                                    report(new Problem(Kind.ANCHOR_HEAD_MISMATCH, chainId, seq, anchorSeq[0],
                                            "anchored " + shortHex(anchoredHash.get(anchorSeq[0])) + ", stored " + shortHex(hash)));
                                }
                            }
                        }
                        prev = hash;
                        expected = seq + 1;
                        lastSeq = seq;
                        head = new Anchor.Head(chainId, seq, hash, chainTime, sourceOffset);
                    }
                }
            }
            if (fromAnchor && !anchorHeadSeen) {
                report(new Problem(Kind.TRUNCATED, chainId, start.seq(), null, "the anchored head entry is missing"));
            }
            if (!anchored.isEmpty()) {
                long missingFrom = Math.max(expected, startSeq);
                long anchoredTo = anchored.lastKey();
                long anchorSeq = anchored.lastEntry().getValue().get(0)[0];
                if (entries == 0 && lastSeq < 0 && (start == null || start == cut)) {
                    report(new Problem(Kind.CHAIN_MISSING, chainId, missingFrom, anchorSeq,
                            "anchor #" + anchorSeq + " recorded its head at seq " + anchoredTo));
                } else {
                    report(new Problem(Kind.TRUNCATED, chainId, missingFrom, anchorSeq, "last entry is seq "
                            + (expected - 1) + ", anchor #" + anchorSeq + " recorded seq " + anchoredTo));
                }
            }
            List<Problem> found = List.copyOf(problems);
            long count = problemCount;
            problems.clear();
            problemCount = 0;
            return new ChainResult(chainId, startSeq, entries, head, found, count,
                    latestAnchor < 0 ? null : latestAnchoredSeq);
        }

        private final List<Problem> problems = new ArrayList<>();
        private long problemCount;

        private void report(Problem p) {
            problemCount++;
            if (problems.size() < MAX_PROBLEMS_PER_CHAIN) {
                problems.add(p);
            }
        }
    }

    private static final long POSTGRES_EPOCH_MILLIS = 946_684_800_000L; // 2000-01-01T00:00:00Z

    /**
     * Epoch milliseconds of a timestamptz column. With binary transfer the value is PostgreSQL's int64 microseconds
     * since 2000-01-01; decoding it directly saves a Timestamp and a Calendar per value.
     */
    static long millis(ResultSet rs, int column) throws SQLException {
        byte[] raw = rs.getBytes(column);
        if (raw != null && raw.length == 8) {
            long micros = ((raw[0] & 0xffL) << 56) | ((raw[1] & 0xffL) << 48) | ((raw[2] & 0xffL) << 40)
                    | ((raw[3] & 0xffL) << 32) | ((raw[4] & 0xffL) << 24) | ((raw[5] & 0xffL) << 16)
                    | ((raw[6] & 0xffL) << 8) | (raw[7] & 0xffL);
            return Math.floorDiv(micros, 1000) + POSTGRES_EPOCH_MILLIS;
        }
        return rs.getTimestamp(column).getTime();
    }

    /** MAC keys looked up by the raw key_id bytes, remembering the last one (entries mostly share one key). */
    static final class KeyLookup {
        private final Map<String, byte[]> keys;
        private byte[] lastId;
        private byte[] lastKey;
        private String lastName;

        KeyLookup(Map<String, byte[]> keys) {
            this.keys = keys;
        }

        /** The key for this id, or null when unknown. */
        byte[] key(byte[] id) {
            if (lastId == null || !Arrays.equals(id, lastId)) {
                lastId = id;
                lastName = new String(id, StandardCharsets.UTF_8);
                lastKey = keys.get(lastName);
            }
            return lastKey;
        }

        String lastName() {
            return lastName;
        }
    }

    static String shortHex(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        String hex = HexFormat.of().formatHex(bytes);
        return hex.length() > 16 ? hex.substring(0, 16) + "…" : hex;
    }
}
