package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.pipeline.config.Settings;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Alert thresholds with a default per name and overrides per HPC system and queue, all in one config:
 *
 * <pre>
 * health:
 *   queue-sla: 1h                  # default: health.queue-sla
 *   thresholds:
 *     setonix:
 *       queue-sla: 2h              # every queue of setonix: health.thresholds.setonix.queue-sla
 *       debug:
 *         queue-sla: 10m           # setonix/debug: health.thresholds.setonix.debug.queue-sla
 *     "*":
 *       gpu:
 *         queue-sla: 4h            # the gpu queue of every system: health.thresholds.*.gpu.queue-sla
 * </pre>
 *
 * The most specific setting wins: system + queue, then any system + queue, then system, then the default. Threshold
 * names contain no dots, so the last segment of a key is always the name.
 */
public final class Thresholds implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String OVERRIDE_PREFIX = "health.thresholds.";
    private static final String DEFAULT_PREFIX = "health.";

    /** name -> default value, as text. */
    private final Map<String, String> defaults;
    /** "system/queue/name", "*{@literal /}queue/name" and "system//name" -> value, as text. */
    private final Map<String, String> overrides;
    /**
     * Parsed values: the per-job health checks look thresholds up on every step. A record key, so a lookup builds no
     * string (String caches its hash). Bounded, as system and queue names come from the input.
     */
    private transient Map<ParsedKey, Double> parsed;
    private static final int MAX_PARSED = 10_000;

    private record ParsedKey(boolean isDuration, String name, String system, String queue) {}

    private Thresholds(Map<String, String> defaults, Map<String, String> overrides) {
        this.defaults = new TreeMap<>(defaults);
        this.overrides = new TreeMap<>(overrides);
    }

    /**
     * Reads the defaults ({@code health.NAME}, falling back to {@code builtIn}) and every override under
     * {@code health.thresholds.}.
     */
    public static Thresholds from(Settings settings, Map<String, String> builtIn) {
        Map<String, String> defaults = new TreeMap<>();
        builtIn.forEach((name, value) -> defaults.put(name, settings.get(DEFAULT_PREFIX + name, value)));
        Map<String, String> overrides = new TreeMap<>();
        for (Map.Entry<String, String> e : settings.asMap().entrySet()) {
            if (!e.getKey().startsWith(OVERRIDE_PREFIX)) {
                continue;
            }
            String[] parts = e.getKey().substring(OVERRIDE_PREFIX.length()).split("\\.");
            String name = parts[parts.length - 1];
            if (!builtIn.containsKey(name) || parts.length < 2 || parts.length > 3) {
                throw new IllegalArgumentException("Setting '" + e.getKey() + "': expected " + OVERRIDE_PREFIX
                        + "<system>[.<queue>].<name> with a name out of " + builtIn.keySet());
            }
            String system = parts[0];
            String queue = parts.length == 3 ? parts[1] : "";
            overrides.put(system + "/" + queue + "/" + name, e.getValue());
        }
        Thresholds t = new Thresholds(defaults, overrides);
        // Fail at startup, not at the first alert, on a value that does not parse.
        for (String name : defaults.keySet()) {
            t.check(name, defaults.get(name));
        }
        overrides.forEach((key, value) -> t.check(key.substring(key.lastIndexOf('/') + 1), value));
        return t;
    }

    private void check(String name, String value) {
        String key = "threshold " + name + " = '" + value + "'";
        try {
            if (looksLikeDuration(defaults.get(name))) {
                Settings.parseDuration(value);
            } else {
                Double.parseDouble(value.strip());
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Cannot parse " + key + ": " + e.getMessage());
        }
    }

    private static boolean looksLikeDuration(String text) {
        String s = text.strip();
        return !s.isEmpty() && !Character.isDigit(s.charAt(s.length() - 1)) || s.startsWith("P") || s.startsWith("p");
    }

    /** The text value of {@code name} for a system and queue (either may be null). */
    public String raw(String name, String system, String queue) {
        if (!defaults.containsKey(name)) {
            throw new IllegalArgumentException("Unknown threshold " + name);
        }
        String v = null;
        if (system != null && queue != null) {
            v = overrides.get(system + "/" + queue + "/" + name);
        }
        if (v == null && queue != null) {
            v = overrides.get("*/" + queue + "/" + name);
        }
        if (v == null && system != null) {
            v = overrides.get(system + "//" + name);
        }
        if (v != null) {
            return v;
        }
        return defaults.get(name);
    }

    public Duration duration(String name, String system, String queue) {
        return Settings.parseDuration(raw(name, system, queue));
    }

    public double number(String name, String system, String queue) {
        return parsed(name, system, queue, false);
    }

    public long millis(String name, String system, String queue) {
        return (long) parsed(name, system, queue, true);
    }

    private double parsed(String name, String system, String queue, boolean isDuration) {
        if (parsed == null) {
            parsed = new ConcurrentHashMap<>();
        }
        ParsedKey key = new ParsedKey(isDuration, name, system, queue);
        Double value = parsed.get(key);
        if (value == null) {
            String text = raw(name, system, queue);
            value = isDuration ? (double) Settings.parseDuration(text).toMillis() : Double.parseDouble(text.strip());
            if (parsed.size() < MAX_PARSED) {
                parsed.put(key, value);
            }
        }
        return value;
    }
}
