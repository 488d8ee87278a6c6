package io.cosmichorizons.verification;

import io.cosmichorizons.generator.GroundTruth;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The alert thresholds a metrics job ran with, read from the same settings (flattened keys, as on its command line)
 * with the defaults the README documents. The lookup follows the README: {@code health.thresholds.<system>.<queue>},
 * then {@code health.thresholds.*.<queue>}, then {@code health.thresholds.<system>}, then {@code health.<name>}.
 */
public final class AlertRules {
    private final Map<String, String> settings;

    private AlertRules(Map<String, String> settings) {
        this.settings = Map.copyOf(settings);
    }

    public static AlertRules fromSettings(Map<String, String> settings) {
        return new AlertRules(settings);
    }

    public static AlertRules defaults() {
        return new AlertRules(Map.of());
    }

    public long submitTimeoutMs(GroundTruth.Job job) {
        return millis(threshold("submit-timeout", job.hpcSystem(), job.queue(), "10m"));
    }

    public long queueSlaMs(GroundTruth.Job job) {
        return millis(threshold("queue-sla", job.hpcSystem(), job.queue(), "1h"));
    }

    public long walltimeGraceMs(GroundTruth.Job job) {
        return millis(threshold("walltime-grace", job.hpcSystem(), job.queue(), "15m"));
    }

    /** The longest gap between heartbeats before MISSING_HEARTBEAT: interval x missed. */
    public long heartbeatLimitMs(GroundTruth.Job job) {
        return millis(threshold("heartbeat-interval", job.hpcSystem(), job.queue(), "1m"))
                * Long.parseLong(threshold("heartbeat-missed", job.hpcSystem(), job.queue(), "3"));
    }

    public BatchRecomputation.RateRule errorRate(String system) {
        return new BatchRecomputation.RateRule(millis(threshold("error-rate-window", system, null, "15m")),
                Double.parseDouble(threshold("error-rate-open", system, null, "0.25")),
                Double.parseDouble(threshold("error-rate-resolve", system, null, "0.15")),
                Long.parseLong(threshold("error-rate-min-jobs", system, null, "20")));
    }

    /** KLL sketch size of the fleet percentiles ({@code metrics.sketch-k}). */
    public int sketchK() {
        return Integer.parseInt(settings.getOrDefault("metrics.sketch-k", "200"));
    }

    private String threshold(String name, String system, String queue, String defaultValue) {
        String prefix = "health.thresholds.";
        for (String key : new String[] {
                queue == null ? null : prefix + system + "." + queue + "." + name,
                queue == null ? null : prefix + "*." + queue + "." + name,
                prefix + system + "." + name,
                "health." + name}) {
            if (key != null && settings.containsKey(key)) {
                return settings.get(key);
            }
        }
        return defaultValue;
    }

    /** {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, {@code 7d}, or ISO-8601. */
    static long millis(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith("p")) {
            return Duration.parse(s.toUpperCase(Locale.ROOT)).toMillis();
        }
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
            i++;
        }
        double n = Double.parseDouble(s.substring(0, i));
        long unit = switch (s.substring(i).strip()) {
            case "ms" -> 1;
            case "s", "" -> 1_000;
            case "m", "min" -> 60_000;
            case "h" -> 3_600_000;
            case "d" -> 86_400_000;
            default -> throw new IllegalArgumentException("Not a duration: " + text);
        };
        return Math.round(n * unit);
    }
}
