package io.cosmichorizons.pipeline.state;

import java.util.List;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * Lists kept in keyed state sorted by a start time (open minutes, windows, pending samples): find the entry of a
 * start time, or insert a new one in order. Binary search, since these run once per input record.
 */
public final class SortedEntries {
    private SortedEntries() {}

    /** The entry of {@code sorted} whose start is {@code start}, inserted in order from {@code create} if absent. */
    public static <T> T findOrInsert(List<T> sorted, long start, ToLongFunction<T> startOf, LongFunction<T> create) {
        int i = lowerBound(sorted, start, startOf);
        if (i < sorted.size() && startOf.applyAsLong(sorted.get(i)) == start) {
            return sorted.get(i);
        }
        T created = create.apply(start);
        sorted.add(i, created);
        return created;
    }

    /** Adds {@code value} to the ascending {@code sorted} unless it is already there. */
    public static void insertUnique(List<Long> sorted, long value) {
        findOrInsert(sorted, value, Long::longValue, Long::valueOf);
    }

    /** The index of the first entry whose start is not below {@code start}. */
    private static <T> int lowerBound(List<T> sorted, long start, ToLongFunction<T> startOf) {
        int low = 0;
        int high = sorted.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (startOf.applyAsLong(sorted.get(mid)) < start) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }
}
