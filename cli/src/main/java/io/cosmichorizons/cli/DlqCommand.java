package io.cosmichorizons.cli;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.DeadLetterReplay;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons dlq inspect|replay}. */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Inspect and replay dead letters.",
        subcommands = {DlqCommand.Inspect.class, DlqCommand.Replay.class})
public final class DlqCommand {

    /** Filters shared by inspect and replay. */
    static class Filter {
        @Option(names = "--reason", split = ",", paramLabel = "REASON",
                description = "Only these reasons (comma-separated): ${COMPLETION-CANDIDATES}")
        Set<DeadLetterReason> reasons;

        @Option(names = "--since", paramLabel = "TIME", description = "Only records published at or after TIME: an ISO instant, or a duration ago like 1h")
        String since;

        @Option(names = "--until", paramLabel = "TIME", description = "Only records published before TIME: an ISO instant, or a duration ago")
        String until;

        @Option(names = "--topic", defaultValue = Topics.DEAD_LETTERS, description = "Dead-letter topic (default ${DEFAULT-VALUE})")
        String topic;

        boolean matches(DeadLetter dl) {
            Instant at = dl.getSource().getTimestamp();
            return (reasons == null || reasons.contains(dl.getReason()))
                    && (since == null || !at.isBefore(parseTime(since)))
                    && (until == null || at.isBefore(parseTime(until)));
        }

        List<DeadLetter> read(String bootstrapServers) {
            long[] skipped = {0};
            List<DeadLetter> matching = DeadLetterReplay.read(bootstrapServers, topic, this::matches, skipped);
            if (skipped[0] > 0) {
                System.err.println("Warning: " + skipped[0] + " record(s) in " + topic + " are not dead letters and were skipped");
            }
            return matching;
        }
    }

    static Instant parseTime(String text) {
        try {
            return Instant.parse(text);
        } catch (RuntimeException e) {
            return Instant.now().minus(Settings.parseDuration(text));
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "List dead letters, newest last, with a count per reason.")
    static final class Inspect implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Mixin
        Filter filter;

        @Option(names = "--limit", defaultValue = "50", description = "Show at most the last N (default ${DEFAULT-VALUE}; 0 = all)")
        int limit;

        @Option(names = "--json", description = "One JSON object per line, original bytes base64-encoded")
        boolean json;

        @Override
        public Integer call() {
            List<DeadLetter> all = filter.read(services.bootstrapServers);
            List<DeadLetter> shown = limit > 0 && all.size() > limit ? all.subList(all.size() - limit, all.size()) : all;
            for (DeadLetter dl : shown) {
                if (json) {
                    System.out.println(JsonCodec.encodeToString(dl));
                } else {
                    var s = dl.getSource();
                    System.out.printf("%s  %-22s %s[%d]@%d  job=%s%n    %s%n    value: %s%n", s.getTimestamp(), dl.getReason(),
                            s.getTopic(), s.getPartition(), s.getOffset(), dl.getJobId(), dl.getMessage(), preview(s.getValue()));
                }
            }
            Map<DeadLetterReason, Integer> counts = new EnumMap<>(DeadLetterReason.class);
            all.forEach(dl -> counts.merge(dl.getReason(), 1, Integer::sum));
            System.out.println((json ? "" : "\n") + all.size() + " dead letter(s)" + (shown.size() < all.size() ? ", last " + shown.size() + " shown" : "")
                    + (counts.isEmpty() ? "" : ": " + counts));
            return 0;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Re-publish the original bytes of selected dead letters, with their original key and timestamp, "
                    + "e.g. after the missing predecessor was published or a producer bug was fixed.")
    static final class Replay implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Mixin
        Filter filter;

        @Option(names = "--to", paramLabel = "TOPIC", description = "Target topic (default: each record's source topic)")
        String to;

        @Option(names = "--dry-run", description = "Only say what would be replayed")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            if (filter.reasons == null || filter.reasons.isEmpty()) {
                throw new IllegalArgumentException("Choose what to replay with --reason (replaying everything would re-inject garbage)");
            }
            List<DeadLetter> selected = filter.read(services.bootstrapServers);
            selected.removeIf(dl -> dl.getSource().getValue() == null);
            System.out.println((dryRun ? "Would replay " : "Replaying ") + selected.size() + " record(s)"
                    + (to == null ? " to their source topics" : " to " + to));
            if (dryRun || selected.isEmpty()) {
                return 0;
            }
            int sent = DeadLetterReplay.replay(services.bootstrapServers, selected, to);
            System.out.println("Replayed " + sent + " record(s).");
            return 0;
        }
    }

    static String preview(ByteBuffer value) {
        if (value == null) {
            return "(none)";
        }
        byte[] b = DeadLetterReplay.bytes(value);
        if (AvroCodec.isSingleObject(b)) {
            return "Avro single-object, " + b.length + " bytes";
        }
        String text = new String(b, 0, Math.min(b.length, 120), StandardCharsets.UTF_8).replaceAll("\\p{Cntrl}", ".");
        return b.length + " bytes: " + text + (b.length > 120 ? "..." : "");
    }
}
