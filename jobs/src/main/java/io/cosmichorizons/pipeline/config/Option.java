package io.cosmichorizons.pipeline.config;

import java.util.List;

/** A documented setting: its key, its default, and what it does. Listed by {@code --help} and in the README. */
public record Option(String key, String defaultValue, String description) {

    /** Renders options as an aligned table, for --help output and docs. */
    public static String table(List<Option> options) {
        int width = options.stream().mapToInt(o -> o.key().length()).max().orElse(10);
        StringBuilder sb = new StringBuilder();
        for (Option o : options) {
            sb.append(String.format("  --%-" + width + "s  %s (default: %s)%n", o.key(), o.description(),
                    o.defaultValue() == null ? "none" : o.defaultValue()));
        }
        return sb.toString();
    }
}
