package io.cosmichorizons.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SortedEntriesTest {
    private record Entry(long start) {}

    @Test
    void findsAnExistingEntryAndInsertsAMissingOneInOrder() {
        List<Entry> entries = new ArrayList<>(List.of(new Entry(10), new Entry(20), new Entry(30)));
        Entry twenty = entries.get(1);
        assertSame(twenty, SortedEntries.findOrInsert(entries, 20, Entry::start, Entry::new));
        assertEquals(new Entry(25), SortedEntries.findOrInsert(entries, 25, Entry::start, Entry::new));
        SortedEntries.findOrInsert(entries, 5, Entry::start, Entry::new);
        SortedEntries.findOrInsert(entries, 35, Entry::start, Entry::new);
        assertEquals(List.of(new Entry(5), new Entry(10), new Entry(20), new Entry(25), new Entry(30), new Entry(35)),
                entries);
    }

    @Test
    void keepsValuesSortedAndUniqueLikeATreeSet() {
        Random random = new Random(42);
        List<Long> sorted = new ArrayList<>();
        TreeSet<Long> expected = new TreeSet<>();
        for (int i = 0; i < 2_000; i++) {
            long v = random.nextInt(500);
            SortedEntries.insertUnique(sorted, v);
            expected.add(v);
        }
        assertEquals(new ArrayList<>(expected), sorted);
    }
}
