package io.cosmichorizons.verification;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.serde.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The dead-letter topic against what was published, per job ({@link Pipeline#wrote}). */
public final class DeadLetterChecks {

    public static final String NONE_TWICE = "dead letters: no record dead-lettered twice by one job";

    private DeadLetterChecks() {}

    public static String injectedCheck(Pipeline writer) {
        return "dead letters (" + writer.label() + " job): exactly the injected bad records, each with its reason";
    }

    public static String fuzzedCheck(Pipeline writer) {
        return "dead letters (" + writer.label() + " job): every fuzzed record, with a reason";
    }

    public static List<Finding> check(PublishedInputs in, OutputSnapshot out, Set<Pipeline> writers) {
        List<Finding> findings = new ArrayList<>();
        for (Pipeline w : writers) {
            findings.add(injected(in, out, w));
            if (!in.fuzzed().isEmpty()) {
                findings.add(fuzzed(in, out, w));
            }
        }
        findings.add(noneTwice(out));
        return findings;
    }

    /**
     * The writer's dead letters of generated input (fuzzed records aside) are exactly the injected bad records of
     * the topics it reads, by reason and key. The metrics job gets none: the generator injects into job-lifecycle
     * only, and its samples are never late.
     */
    public static Finding injected(PublishedInputs in, OutputSnapshot out, Pipeline writer) {
        Set<String> reads = writer.deadLettersFrom(in.truth());
        Map<String, Long> expected = in.truth().injected().stream()
                .filter(i -> reads.contains(i.topic()) && i.expectedReason() != null)
                .collect(Collectors.groupingBy(i -> i.expectedReason() + "/" + i.key(), TreeMap::new, Collectors.counting()));
        Set<String> fuzzed = fuzzedCoordinates(in);
        Map<String, Long> actual = out.deadLetters().stream()
                .filter(dl -> Pipeline.wrote(dl) == writer && !fuzzed.contains(coordinates(dl)))
                .collect(Collectors.groupingBy(dl -> dl.getReason() + "/" + key(dl), TreeMap::new, Collectors.counting()));
        return Finding.of(injectedCheck(writer), sum(expected), sum(actual), Multisets.differences(expected, actual));
    }

    /** Every fuzzed record of a topic the writer reads is among its dead letters, with the expected reason if any. */
    public static Finding fuzzed(PublishedInputs in, OutputSnapshot out, Pipeline writer) {
        Set<String> reads = writer.deadLettersFrom(in.truth());
        Map<String, DeadLetter> mine = new java.util.HashMap<>();
        out.deadLetters().stream().filter(dl -> Pipeline.wrote(dl) == writer).forEach(dl -> mine.put(coordinates(dl), dl));
        List<String> problems = new ArrayList<>();
        long expected = 0;
        for (PublishedInputs.FuzzedRecord f : in.fuzzed()) {
            if (!reads.contains(f.topic())) {
                continue;
            }
            expected++;
            DeadLetter dl = mine.get(f.coordinates());
            if (dl == null) {
                problems.add(f.coordinates() + " (" + f.kind() + "): not dead-lettered");
            } else if (dl.getReason() == null
                    || (f.expectedReason() != null && !f.expectedReason().equals(dl.getReason().name()))) {
                problems.add(f.coordinates() + " (" + f.kind() + "): reason " + dl.getReason() + ", expected "
                        + f.expectedReason());
            }
        }
        return Finding.of(fuzzedCheck(writer), expected, expected - problems.size(), problems);
    }

    /** No job writes the same input record's dead letter twice (nothing doubled across restores). */
    public static Finding noneTwice(OutputSnapshot out) {
        Map<String, Long> copies = out.deadLetters().stream().collect(Collectors.groupingBy(dl -> dl.getStage() + " "
                + dl.getReason() + " " + coordinates(dl) + " " + dl.getEventId(), TreeMap::new, Collectors.counting()));
        List<String> twice = new ArrayList<>();
        copies.forEach((k, n) -> {
            if (n > 1) {
                twice.add(k + " x" + n);
            }
        });
        return Finding.of(NONE_TWICE, "0 doubled", twice.size() + " doubled", twice);
    }

    static String coordinates(DeadLetter dl) {
        return DeadLetters.coordinates(dl.getSource());
    }

    private static Set<String> fuzzedCoordinates(PublishedInputs in) {
        Set<String> s = new HashSet<>();
        in.fuzzed().forEach(f -> s.add(f.coordinates()));
        return s;
    }

    private static String key(DeadLetter dl) {
        return dl.getSource().getKey() == null ? null
                : StandardCharsets.UTF_8.decode(dl.getSource().getKey().duplicate()).toString();
    }

    private static long sum(Map<String, Long> m) {
        return m.values().stream().mapToLong(Long::longValue).sum();
    }
}
