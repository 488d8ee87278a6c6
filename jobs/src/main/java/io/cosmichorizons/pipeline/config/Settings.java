package io.cosmichorizons.pipeline.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.yaml.snakeyaml.Yaml;

/**
 * Flat "dotted.key -> value" settings, merged from (lowest to highest precedence) defaults, a YAML file given with
 * {@code --config FILE}, the environment variables {@code KAFKA_BOOTSTRAP_SERVERS} and {@code JDBC_URL}, and
 * {@code --key value} / {@code --key=value} arguments. Nested YAML maps are flattened with dots, so
 * {@code kafka: {bootstrap-servers: x}} and {@code --kafka.bootstrap-servers x} are the same setting.
 */
public final class Settings implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String KAFKA_BOOTSTRAP_SERVERS = "kafka.bootstrap-servers";
    public static final String JDBC_URL = "jdbc.url";

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    public static Settings of(Map<String, String> values) {
        return new Settings(values);
    }

    /** Parses job arguments: {@code --config FILE}, the two environment variables, then {@code --key value} pairs. */
    public static Settings fromArgs(String[] args) {
        return fromArgs(args, System.getenv());
    }

    static Settings fromArgs(String[] args, Map<String, String> env) {
        Map<String, String> flags = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("Unexpected argument '" + arg + "'; use --key value or --key=value");
            }
            String key = arg.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                value = "true";
            }
            flags.put(key, value);
        }
        Map<String, String> merged = new TreeMap<>();
        String file = flags.remove("config");
        if (file != null) {
            merged.putAll(readYaml(Path.of(file)));
        }
        if (env.get("KAFKA_BOOTSTRAP_SERVERS") != null) {
            merged.put(KAFKA_BOOTSTRAP_SERVERS, env.get("KAFKA_BOOTSTRAP_SERVERS"));
        }
        if (env.get("JDBC_URL") != null) {
            merged.put(JDBC_URL, env.get("JDBC_URL"));
        }
        merged.putAll(flags);
        return new Settings(merged);
    }

    public static Map<String, String> readYaml(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Object root = new Yaml().load(in);
            Map<String, String> flat = new TreeMap<>();
            if (root instanceof Map<?, ?> map) {
                flatten("", map, flat);
            } else if (root != null) {
                throw new IllegalArgumentException(file + ": expected a YAML mapping at the top level");
            }
            return flat;
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read config file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, out);
            } else if (e.getValue() != null) {
                out.put(key, String.valueOf(e.getValue()));
            }
        }
    }

    public Settings with(String key, String value) {
        Map<String, String> copy = new TreeMap<>(values);
        copy.put(key, value);
        return new Settings(copy);
    }

    public Map<String, String> asMap() {
        return values;
    }

    public String get(String key, String defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    public String require(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("Missing setting '" + key + "'");
        }
        return v;
    }

    public int getInt(String key, int defaultValue) {
        String v = values.get(key);
        try {
            return v == null ? defaultValue : Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Setting '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        String v = values.get(key);
        return v == null ? defaultValue : Boolean.parseBoolean(v.strip());
    }

    public Duration getDuration(String key, Duration defaultValue) {
        String v = values.get(key);
        try {
            return v == null ? defaultValue : parseDuration(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Setting '" + key + "' must be a duration like 500ms, 10s, 5m, 24h or 90d; got '" + v + "'");
        }
    }

    /** Parses 500ms, 10s, 5m, 24h, 90d, or an ISO-8601 duration (PT10S). */
    public static Duration parseDuration(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith("p")) {
            return Duration.parse(s.toUpperCase(Locale.ROOT));
        }
        int split = 0;
        while (split < s.length() && (Character.isDigit(s.charAt(split)))) {
            split++;
        }
        if (split == 0) {
            throw new IllegalArgumentException("Not a duration: " + text);
        }
        long amount = Long.parseLong(s.substring(0, split));
        String unit = s.substring(split).strip();
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "s", "" -> Duration.ofSeconds(amount);
            case "m", "min" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> throw new IllegalArgumentException("Unknown duration unit in " + text);
        };
    }
}
