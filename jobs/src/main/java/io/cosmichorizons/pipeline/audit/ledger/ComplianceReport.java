package io.cosmichorizons.pipeline.audit.ledger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code audit report}: a compliance report over [from, to) (event time) from the ledger, its anchors, a fresh
 * verification, and the dead-letter topic. Rendered as JSON (for machines), Markdown (for tickets) or HTML with inline
 * SVG charts (for people). All text from the ledger is escaped: it is untrusted input.
 */
public final class ComplianceReport {

    /** Outcomes of jobs that have lifecycle entries in the period. */
    public static final List<String> OUTCOMES = List.of("COMPLETED", "FAILED", "CANCELLED", "IN_PROGRESS");
    private static final int TOP_ACTORS = 15;

    /**
     * The report's content.
     *
     * @param eventsByType entries per event type in the period
     * @param eventsByActor entries per actor, the busiest first ({@value #TOP_ACTORS} at most, the rest as "(others)")
     * @param jobsByOutcome jobs with lifecycle entries in the period, by their terminal step (IN_PROGRESS: none yet)
     * @param policy retention and anchoring status
     * @param verification the verdict and the per-chain results of a full verification run now
     * @param deadLetters dead letters in the period by reason and stage, when the dead-letter topic was readable
     */
    public record Data(Instant from, Instant to, Instant generatedAt, long events, Map<String, Long> eventsByType,
            Map<String, Long> eventsByActor, Map<String, Long> jobsByOutcome, Policy policy,
            LedgerVerifier.Report verification, DeadLetterSummary deadLetters) {}

    /** Retention, the oldest entry, and the anchor cadence. */
    public record Policy(Integer keepDays, Instant lastRetentionAt, Instant retentionCut, Instant oldestEntry,
            Instant newestEntry, long entriesTotal, int anchors, Instant lastAnchorAt, Duration medianAnchorInterval,
            Duration longestAnchorInterval) {}

    /**
     * Dead letters of the period (by the source record's timestamp).
     *
     * @param invalidTransitions the first INVALID_TRANSITION messages, as examples
     * @param unavailable why the topic could not be read (null when it could)
     */
    public record DeadLetterSummary(long total, Map<String, Long> byReason, Map<String, Long> byStage,
            long invalidTransitionCount, List<String> invalidTransitions, String unavailable) {}

    private ComplianceReport() {}

    /**
     * Collects the report. {@code bootstrapServers}/{@code deadLetterTopic} may be null to leave dead letters out.
     */
    public static Data collect(String jdbcUrl, Instant from, Instant to, LedgerVerifier.Options verifyOptions,
            String bootstrapServers, String deadLetterTopic) throws SQLException, InterruptedException {
        Map<String, Long> byType = new TreeMap<>();
        Map<String, Long> byActor = new LinkedHashMap<>();
        Map<String, Long> byOutcome = new LinkedHashMap<>();
        OUTCOMES.forEach(o -> byOutcome.put(o, 0L));
        long events = 0;
        Policy policy;
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            try (PreparedStatement ps = period(c, "SELECT event_type, count(*) FROM audit_events "
                    + "WHERE occurred_at >= ? AND occurred_at < ? GROUP BY event_type", from, to);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byType.put(rs.getString(1), rs.getLong(2));
                    events += rs.getLong(2);
                }
            }
            long others = 0;
            try (PreparedStatement ps = period(c, "SELECT actor, count(*) FROM audit_events "
                    + "WHERE occurred_at >= ? AND occurred_at < ? GROUP BY actor ORDER BY 2 DESC, 1", from, to);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (byActor.size() < TOP_ACTORS) {
                        byActor.put(rs.getString(1), rs.getLong(2));
                    } else {
                        others += rs.getLong(2);
                    }
                }
            }
            if (others > 0) {
                byActor.put("(others)", others);
            }
            String steps = Arrays.stream(LifecycleEventType.values()).map(t -> "'" + t.name() + "'")
                    .collect(Collectors.joining(","));
            try (PreparedStatement ps = period(c, "SELECT coalesce(outcome, 'IN_PROGRESS'), count(*) FROM ("
                    + "SELECT job_id, max(event_type) FILTER (WHERE event_type IN ('COMPLETED','FAILED','CANCELLED')) "
                    + "AS outcome FROM audit_events WHERE job_id IS NOT NULL AND event_type IN (" + steps + ") "
                    + "AND occurred_at >= ? AND occurred_at < ? GROUP BY job_id) j GROUP BY 1", from, to);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byOutcome.put(rs.getString(1), rs.getLong(2));
                }
            }
            policy = policy(c);
        }
        LedgerVerifier.Report verification = new LedgerVerifier(jdbcUrl, verifyOptions).verify();
        DeadLetterSummary deadLetters = deadLetters(bootstrapServers, deadLetterTopic, from, to);
        return new Data(from, to, Instant.now(), events, byType, byActor, byOutcome, policy, verification, deadLetters);
    }

    private static PreparedStatement period(Connection c, String sql, Instant from, Instant to) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        ps.setTimestamp(1, Timestamp.from(from));
        ps.setTimestamp(2, Timestamp.from(to));
        return ps;
    }

    private static Policy policy(Connection c) throws SQLException {
        Instant oldest = null;
        Instant newest = null;
        long total = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT min(occurred_at), max(occurred_at), count(*) FROM audit_events");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            oldest = rs.getTimestamp(1) == null ? null : rs.getTimestamp(1).toInstant();
            newest = rs.getTimestamp(2) == null ? null : rs.getTimestamp(2).toInstant();
            total = rs.getLong(3);
        }
        List<Anchor> anchors = AnchorStore.loadAll(c);
        Anchor retention = null;
        Instant lastPeriodic = null;
        List<Long> gaps = new ArrayList<>();
        Instant previous = null;
        for (Anchor a : anchors) {
            if (a.isRetention()) {
                retention = a;
            } else {
                if (previous != null) {
                    gaps.add(Duration.between(previous, a.createdAt()).toMillis());
                }
                previous = a.createdAt();
                lastPeriodic = a.createdAt();
            }
        }
        gaps.sort(Long::compare);
        return new Policy(retention == null ? null : retention.keepDays(),
                retention == null ? null : retention.createdAt(), retention == null ? null : retention.retentionCut(),
                oldest, newest, total, anchors.size(), lastPeriodic,
                gaps.isEmpty() ? null : Duration.ofMillis(gaps.get(gaps.size() / 2)),
                gaps.isEmpty() ? null : Duration.ofMillis(gaps.get(gaps.size() - 1)));
    }

    private static DeadLetterSummary deadLetters(String bootstrapServers, String topic, Instant from, Instant to) {
        if (bootstrapServers == null || topic == null) {
            return new DeadLetterSummary(0, Map.of(), Map.of(), 0, List.of(), "not requested");
        }
        Map<String, Long> byReason = new TreeMap<>();
        Map<String, Long> byStage = new TreeMap<>();
        List<String> invalid = new ArrayList<>();
        long[] counts = new long[2];
        try {
            TopicReader.readAll(bootstrapServers, topic, Duration.ofSeconds(30), r -> {
                DeadLetter dl;
                try {
                    dl = AvroCodec.decode(r.value(), DeadLetter.class, DeadLetter.getClassSchema());
                } catch (RejectedRecordException e) {
                    return;
                }
                Instant at = dl.getSource().getTimestamp();
                if (at.isBefore(from) || !at.isBefore(to)) {
                    return;
                }
                counts[0]++;
                byReason.merge(dl.getReason().name(), 1L, Long::sum);
                byStage.merge(dl.getStage(), 1L, Long::sum);
                if (dl.getReason().name().equals("INVALID_TRANSITION")) {
                    counts[1]++;
                    if (invalid.size() < 20) {
                        invalid.add(dl.getMessage());
                    }
                }
            });
        } catch (RuntimeException e) {
            return new DeadLetterSummary(0, Map.of(), Map.of(), 0, List.of(),
                    "dead-letter topic " + topic + " not readable: " + e.getMessage());
        }
        return new DeadLetterSummary(counts[0], byReason, byStage, counts[1], invalid, null);
    }

    // ------------------------------------------------------------------------------------------------ JSON

    public static String json(Data d) {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> period = new LinkedHashMap<>();
        period.put("from", d.from().toString());
        period.put("to", d.to().toString());
        root.put("period", period);
        root.put("generated_at", d.generatedAt().toString());
        root.put("events", d.events());
        root.put("events_by_type", d.eventsByType());
        root.put("events_by_actor", d.eventsByActor());
        root.put("jobs_by_outcome", d.jobsByOutcome());
        Policy p = d.policy();
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("retention_keep_days", p.keepDays());
        policy.put("last_retention_at", str(p.lastRetentionAt()));
        policy.put("retention_cut", str(p.retentionCut()));
        policy.put("oldest_entry", str(p.oldestEntry()));
        policy.put("newest_entry", str(p.newestEntry()));
        policy.put("entries_total", p.entriesTotal());
        policy.put("anchors", p.anchors());
        policy.put("last_anchor_at", str(p.lastAnchorAt()));
        policy.put("median_anchor_interval_seconds", p.medianAnchorInterval() == null ? null : p.medianAnchorInterval().toSeconds());
        policy.put("longest_anchor_interval_seconds", p.longestAnchorInterval() == null ? null : p.longestAnchorInterval().toSeconds());
        root.put("policy", policy);
        LedgerVerifier.Report v = d.verification();
        Map<String, Object> verification = new LinkedHashMap<>();
        verification.put("verdict", v.clean() ? "CLEAN" : "BROKEN");
        verification.put("entries_checked", v.entries());
        verification.put("macs_checked", v.macsChecked());
        verification.put("anchor_signatures_checked", v.signaturesChecked());
        verification.put("anchor_problems", v.anchorProblems().stream().map(LedgerVerifier.Problem::describe).toList());
        List<Map<String, Object>> chains = new ArrayList<>();
        for (LedgerVerifier.ChainResult c : v.chains()) {
            Map<String, Object> chain = new LinkedHashMap<>();
            chain.put("chain_id", c.chainId());
            chain.put("status", c.clean() ? "CLEAN" : "BROKEN");
            chain.put("entries", c.entries());
            chain.put("head_seq", c.head() == null ? null : c.head().seq());
            chain.put("anchored_seq", c.anchoredSeq());
            chain.put("first_problem", c.clean() ? null : c.problems().get(0).describe());
            chain.put("problems", c.problemCount());
            chains.add(chain);
        }
        verification.put("chains", chains);
        root.put("verification", verification);
        DeadLetterSummary dl = d.deadLetters();
        Map<String, Object> deadLetters = new LinkedHashMap<>();
        deadLetters.put("available", dl.unavailable() == null);
        deadLetters.put("unavailable_reason", dl.unavailable());
        deadLetters.put("total", dl.total());
        deadLetters.put("by_reason", dl.byReason());
        deadLetters.put("by_stage", dl.byStage());
        deadLetters.put("invalid_transitions", dl.invalidTransitionCount());
        deadLetters.put("invalid_transition_examples", dl.invalidTransitions());
        root.put("dead_letters", deadLetters);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String str(Instant i) {
        return i == null ? null : i.toString();
    }

    // ------------------------------------------------------------------------------------------------ Markdown

    public static String markdown(Data d) {
        StringBuilder sb = new StringBuilder();
        LedgerVerifier.Report v = d.verification();
        sb.append("# Audit compliance report\n\n");
        sb.append("Period: **").append(d.from()).append("** to **").append(d.to()).append("** (event time). Generated ")
                .append(d.generatedAt()).append(".\n\n");
        sb.append("Ledger verification: **").append(v.clean() ? "CLEAN" : "BROKEN").append("** (")
                .append(String.format("%,d", v.entries())).append(" entries in ").append(v.chains().size())
                .append(" chains; MACs ").append(v.macsChecked() ? "checked" : "NOT checked").append("; anchor signatures ")
                .append(v.signaturesChecked() ? "checked" : "NOT checked").append(").\n\n");
        sb.append("## Events by type\n\n");
        table(sb, "Event type", d.eventsByType());
        sb.append("\nTotal: ").append(String.format("%,d", d.events())).append("\n\n## Events by actor\n\n");
        table(sb, "Actor", d.eventsByActor());
        sb.append("\n## Jobs by outcome\n\n");
        table(sb, "Outcome", d.jobsByOutcome());
        Policy p = d.policy();
        sb.append("\n## Policy status\n\n| Item | Value |\n|---|---|\n");
        sb.append("| Retention policy | ").append(p.keepDays() == null ? "no retention run yet" : p.keepDays() + " days").append(" |\n");
        sb.append("| Last retention run | ").append(or(p.lastRetentionAt())).append(" (cut ").append(or(p.retentionCut())).append(") |\n");
        sb.append("| Oldest entry | ").append(or(p.oldestEntry())).append(" |\n");
        sb.append("| Newest entry | ").append(or(p.newestEntry())).append(" |\n");
        sb.append("| Entries in the ledger | ").append(String.format("%,d", p.entriesTotal())).append(" |\n");
        sb.append("| Anchors | ").append(p.anchors()).append(", last ").append(or(p.lastAnchorAt())).append(" |\n");
        sb.append("| Anchor cadence | median ").append(or(p.medianAnchorInterval())).append(", longest ")
                .append(or(p.longestAnchorInterval())).append(" |\n");
        sb.append("\n## Verification by chain\n\n| Chain | Status | Entries | Head seq | Anchored seq | First problem |\n|---|---|---:|---:|---:|---|\n");
        for (LedgerVerifier.ChainResult c : v.chains()) {
            sb.append("| ").append(md(c.chainId())).append(" | ").append(c.clean() ? "CLEAN" : "**BROKEN**").append(" | ")
                    .append(c.entries()).append(" | ").append(c.head() == null ? "-" : c.head().seq()).append(" | ")
                    .append(c.anchoredSeq() == null ? "-" : c.anchoredSeq()).append(" | ")
                    .append(c.clean() ? "" : md(c.problems().get(0).describe())).append(" |\n");
        }
        for (LedgerVerifier.Problem ap : v.anchorProblems()) {
            sb.append("\n- Anchor problem: ").append(md(ap.describe()));
        }
        DeadLetterSummary dl = d.deadLetters();
        sb.append("\n## Dead letters and invalid transitions\n\n");
        if (dl.unavailable() != null) {
            sb.append("Not available: ").append(md(dl.unavailable())).append("\n");
        } else {
            sb.append("Total: ").append(dl.total()).append("; invalid transitions: ").append(dl.invalidTransitionCount()).append("\n\n");
            table(sb, "Reason", dl.byReason());
            sb.append("\n");
            table(sb, "Stage", dl.byStage());
            if (!dl.invalidTransitions().isEmpty()) {
                sb.append("\nExamples of invalid transitions:\n\n");
                dl.invalidTransitions().forEach(m -> sb.append("- ").append(md(m)).append("\n"));
            }
        }
        return sb.toString();
    }

    private static void table(StringBuilder sb, String what, Map<String, Long> counts) {
        sb.append("| ").append(what).append(" | Count |\n|---|---:|\n");
        counts.forEach((k, n) -> sb.append("| ").append(md(k)).append(" | ").append(n).append(" |\n"));
    }

    private static String or(Object o) {
        return o == null ? "-" : o.toString();
    }

    private static String md(String s) {
        return s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;");
    }

    // ------------------------------------------------------------------------------------------------ HTML

    public static String html(Data d) {
        LedgerVerifier.Report v = d.verification();
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit compliance report</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}")
                .append("h1{margin-bottom:.2em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}")
                .append(".verdict{padding:.8em 1em;border-radius:6px;font-size:1.3em;font-weight:bold;color:#fff}")
                .append(".clean{background:#2e7d32}.broken{background:#c62828}.grid{display:flex;gap:2em;flex-wrap:wrap}")
                .append("figure{margin:0}figcaption{font-weight:bold;margin-bottom:.3em}small{color:#666}")
                .append("</style></head><body>\n");
        sb.append("<h1>Audit compliance report</h1>\n<p>Period <b>").append(esc(d.from().toString())).append("</b> to <b>")
                .append(esc(d.to().toString())).append("</b> (event time). Generated ").append(esc(d.generatedAt().toString()))
                .append(".</p>\n");
        sb.append("<div class=\"verdict ").append(v.clean() ? "clean" : "broken").append("\">Ledger verification: ")
                .append(v.clean() ? "CLEAN" : "BROKEN").append("</div>\n<p><small>")
                .append(String.format("%,d", v.entries())).append(" entries in ").append(v.chains().size())
                .append(" chains checked for gaps, links, hashes").append(v.macsChecked() ? ", MACs" : " (MACs not checked)")
                .append(v.signaturesChecked() ? " and signed anchors" : "").append(".</small></p>\n");

        sb.append("<div class=\"grid\">\n");
        sb.append("<figure><figcaption>Events by type (").append(String.format("%,d", d.events())).append(")</figcaption>")
                .append(barChart(d.eventsByType(), "#1565c0")).append("</figure>\n");
        sb.append("<figure><figcaption>Events by actor</figcaption>").append(barChart(d.eventsByActor(), "#6a1b9a"))
                .append("</figure>\n");
        sb.append("<figure><figcaption>Jobs by outcome</figcaption>").append(barChart(d.jobsByOutcome(), "#ef6c00"))
                .append("</figure>\n");
        sb.append("</div>\n");

        sb.append("<h2>Verification by chain</h2>\n").append(chainGrid(v));
        sb.append("<table><tr><th>Chain</th><th>Status</th><th>Entries</th><th>Head seq</th><th>Anchored seq</th><th>First problem</th></tr>\n");
        for (LedgerVerifier.ChainResult c : v.chains()) {
            sb.append("<tr><td>").append(esc(c.chainId())).append("</td><td>").append(c.clean() ? "CLEAN" : "<b>BROKEN</b>")
                    .append("</td><td>").append(c.entries()).append("</td><td>").append(c.head() == null ? "-" : c.head().seq())
                    .append("</td><td>").append(c.anchoredSeq() == null ? "-" : c.anchoredSeq()).append("</td><td>")
                    .append(c.clean() ? "" : esc(c.problems().get(0).describe())).append("</td></tr>\n");
        }
        sb.append("</table>\n");
        for (LedgerVerifier.Problem ap : v.anchorProblems()) {
            sb.append("<p><b>Anchor problem:</b> ").append(esc(ap.describe())).append("</p>\n");
        }

        Policy p = d.policy();
        sb.append("<h2>Policy status</h2>\n<table>\n");
        row(sb, "Retention policy", p.keepDays() == null ? "no retention run yet" : p.keepDays() + " days");
        row(sb, "Last retention run", or(p.lastRetentionAt()) + " (cut " + or(p.retentionCut()) + ")");
        row(sb, "Oldest entry", or(p.oldestEntry()));
        row(sb, "Newest entry", or(p.newestEntry()));
        row(sb, "Entries in the ledger", String.format("%,d", p.entriesTotal()));
        row(sb, "Anchors", p.anchors() + ", last " + or(p.lastAnchorAt()));
        row(sb, "Anchor cadence", "median " + or(p.medianAnchorInterval()) + ", longest " + or(p.longestAnchorInterval()));
        sb.append("</table>\n");

        DeadLetterSummary dl = d.deadLetters();
        sb.append("<h2>Dead letters and invalid transitions</h2>\n");
        if (dl.unavailable() != null) {
            sb.append("<p>Not available: ").append(esc(dl.unavailable())).append("</p>\n");
        } else {
            sb.append("<p>").append(dl.total()).append(" dead letters; ").append(dl.invalidTransitionCount())
                    .append(" invalid transitions.</p>\n<div class=\"grid\"><figure><figcaption>By reason</figcaption>")
                    .append(barChart(dl.byReason(), "#c62828")).append("</figure><figure><figcaption>By stage</figcaption>")
                    .append(barChart(dl.byStage(), "#5d4037")).append("</figure></div>\n");
            if (!dl.invalidTransitions().isEmpty()) {
                sb.append("<ul>\n");
                dl.invalidTransitions().forEach(m -> sb.append("<li>").append(esc(m)).append("</li>\n"));
                sb.append("</ul>\n");
            }
        }
        sb.append("</body></html>\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>\n");
    }

    /** A horizontal bar chart as inline SVG, one labelled bar per entry. */
    static String barChart(Map<String, Long> counts, String color) {
        int barHeight = 18;
        int labelWidth = 170;
        int width = 460;
        long max = counts.values().stream().mapToLong(Long::longValue).max().orElse(1);
        int height = Math.max(1, counts.size()) * (barHeight + 6) + 4;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "role=\"img\" font-size=\"12\">", width, height));
        int y = 2;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            double w = max == 0 ? 0 : (width - labelWidth - 60) * (e.getValue() / (double) max);
            String label = e.getKey().length() > 26 ? e.getKey().substring(0, 25) + "…" : e.getKey();
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
                    labelWidth - 6, y + 13, esc(label)));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                    + "<title>%s: %d</title></rect>", labelWidth, y, Math.max(1.0, w), barHeight, color,
                    esc(e.getKey()), e.getValue()));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%,d</text>", labelWidth + Math.max(1.0, w) + 4,
                    y + 13, e.getValue()));
            y += barHeight + 6;
        }
        return sb.append("</svg>").toString();
    }

    /** One square per chain, green when it verifies and red when broken, with the finding as a tooltip. */
    static String chainGrid(LedgerVerifier.Report v) {
        int size = 26;
        int perRow = 12;
        int rows = Math.max(1, (v.chains().size() + perRow - 1) / perRow);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">",
                perRow * (size + 4), rows * (size + 4)));
        for (int i = 0; i < v.chains().size(); i++) {
            LedgerVerifier.ChainResult c = v.chains().get(i);
            String tip = c.chainId() + ": " + (c.clean() ? "clean, " + c.entries() + " entries" : c.problems().get(0).describe());
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\">"
                    + "<title>%s</title></rect>", (i % perRow) * (size + 4), (i / perRow) * (size + 4), size, size,
                    c.clean() ? "#2e7d32" : "#c62828", esc(tip)));
        }
        return sb.append("</svg>\n").toString();
    }

    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }
}
