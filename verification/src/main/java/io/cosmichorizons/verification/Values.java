package io.cosmichorizons.verification;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Comparison of expected and actual values across JDBC and Java types. */
final class Values {
    private Values() {}

    /** Equal, with numbers compared by value (doubles to a relative 1e-9) and lists element by element. */
    static boolean same(Object expected, Object actual) {
        if (expected instanceof List<?> a && actual instanceof List<?> b) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (expected instanceof Double || actual instanceof Double) {
            if (expected == null || actual == null) {
                return expected == actual;
            }
            double x = ((Number) expected).doubleValue();
            double y = ((Number) actual).doubleValue();
            return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.max(Math.abs(x), Math.abs(y)));
        }
        if (expected instanceof Number x && actual instanceof Number y) {
            return x.longValue() == y.longValue();
        }
        return Objects.equals(expected, actual);
    }

    /** Adds "{@code key.column}: expected X but was Y" to {@code out} for every column of {@code want} that differs. */
    static void differingColumns(String key, Map<String, ?> want, Map<String, ?> got, List<String> out) {
        want.forEach((column, value) -> {
            if (!same(value, got.get(column))) {
                out.add(key + "." + column + ": expected " + value + " but was " + got.get(column));
            }
        });
    }
}
