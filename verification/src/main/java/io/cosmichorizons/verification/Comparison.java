package io.cosmichorizons.verification;

import java.util.ArrayList;
import java.util.List;

/** The findings of comparing the outputs with the ground truth: passed when every finding passed. */
public record Comparison(List<Finding> findings) {

    public Comparison {
        findings = List.copyOf(findings);
    }

    public boolean passed() {
        return !findings.isEmpty() && findings.stream().allMatch(Finding::passed);
    }

    public List<Finding> failures() {
        return findings.stream().filter(f -> !f.passed()).toList();
    }

    /** The finding of a check, by its exact name. */
    public Finding finding(String check) {
        return findings.stream().filter(f -> f.check().equals(check)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No check '" + check + "' in " + checks()));
    }

    public List<String> checks() {
        return findings.stream().map(Finding::check).toList();
    }

    public Comparison plus(List<Finding> more) {
        List<Finding> all = new ArrayList<>(findings);
        all.addAll(more);
        return new Comparison(all);
    }

    /** One line per finding, failures with their first differences. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(passed() ? "ALL PASS" : failures().size() + " of " + findings.size() + " checks FAILED").append('\n');
        findings.forEach(f -> sb.append("  ").append(f).append('\n'));
        return sb.toString();
    }

    /** A Markdown table: check, expected, actual, result, first differences. */
    public String markdown() {
        StringBuilder sb = new StringBuilder("| Check | Expected | Actual | Result |\n|---|---|---|---|\n");
        for (Finding f : findings) {
            sb.append("| ").append(cell(f.check())).append(" | ").append(cell(f.expected())).append(" | ")
                    .append(cell(f.actual())).append(" | ").append(f.passed() ? "pass" : "**FAIL**: "
                            + cell(f.differenceCount() + " differences, first: " + f.differences())).append(" |\n");
        }
        return sb.toString();
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}
