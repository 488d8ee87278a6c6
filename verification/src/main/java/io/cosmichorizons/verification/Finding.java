package io.cosmichorizons.verification;

import java.util.List;
import java.util.Objects;

/**
 * The verdict of one check of an output against the ground truth.
 *
 * @param check what was checked, e.g. {@code notifications: one per job end (topic, read_committed)}
 * @param expected the expected value, summarised (a count, a size)
 * @param actual the actual value, summarised the same way
 * @param passed whether the output is as expected
 * @param differences the first few differences ({@link #SHOWN} at most), empty when it passed
 * @param differenceCount how many differences there are in all
 */
public record Finding(String check, String expected, String actual, boolean passed, List<String> differences,
        int differenceCount) {

    /** How many differences a finding keeps. */
    public static final int SHOWN = 10;

    public Finding {
        differences = List.copyOf(differences);
    }

    /** Passed exactly when there are no differences. */
    public static Finding of(String check, Object expected, Object actual, List<String> differences) {
        return new Finding(check, String.valueOf(expected), String.valueOf(actual), differences.isEmpty(),
                differences.stream().limit(SHOWN).toList(), differences.size());
    }

    /** Passed when {@code expected} equals {@code actual}. */
    public static Finding equal(String check, Object expected, Object actual) {
        boolean same = Objects.equals(expected, actual);
        return new Finding(check, String.valueOf(expected), String.valueOf(actual), same,
                same ? List.of() : List.of("expected " + expected + " but was " + actual), same ? 0 : 1);
    }

    /** Passed when {@code condition} holds; {@code detail} says what was seen. */
    public static Finding holds(String check, boolean condition, String expected, String actual) {
        return new Finding(check, expected, actual, condition, condition ? List.of() : List.of(actual), condition ? 0 : 1);
    }

    /** One line: PASS/FAIL, the check, expected and actual, and the first differences. */
    @Override
    public String toString() {
        return (passed ? "PASS " : "FAIL ") + check + ": expected " + expected + ", actual " + actual
                + (passed ? "" : " (" + differenceCount + " differences, first: " + differences + ")");
    }
}
