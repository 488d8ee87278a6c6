package io.cosmichorizons.verification;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Differences between two counted sets (key to count), one line per key whose counts differ. */
final class Multisets {
    private Multisets() {}

    static List<String> differences(Map<String, Long> expected, Map<String, Long> actual) {
        TreeSet<String> keys = new TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            long e = expected.getOrDefault(k, 0L);
            long a = actual.getOrDefault(k, 0L);
            if (e != a) {
                out.add(k + ": expected " + e + " but was " + a);
            }
        }
        return out;
    }
}
