package io.cosmichorizons.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A Flink {@code config.yaml} as flat {@code dotted.key -> value} settings: read from the project's
 * {@code flink-conf/config.yaml}, adjusted for one cluster run (relative paths made absolute, test overrides), and
 * written to the run directory's {@code conf/} folder, which the cluster's processes get as {@code --configDir}.
 */
public final class ClusterConfig {

    /** Keys holding local paths: a relative value is resolved against the project folder. */
    static final Set<String> PATH_KEYS = Set.of("io.tmp.dirs", "web.upload.dir", "web.tmpdir",
            "state.backend.rocksdb.log.dir");

    /** Keys holding a file system URI: a relative value becomes a {@code file://} URI under the project folder. */
    static final Set<String> URI_KEYS = Set.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir");

    public static final String REST_ADDRESS = "rest.address";
    public static final String REST_PORT = "rest.port";
    public static final String TM_DATA_PORT = "taskmanager.data.port";

    private final Map<String, String> values;

    private ClusterConfig(Map<String, String> values) {
        this.values = new TreeMap<>(values);
    }

    /** Reads a Flink {@code config.yaml} (nested or flat keys). */
    public static ClusterConfig read(Path configYaml) {
        try (InputStream in = Files.newInputStream(configYaml)) {
            Object root = new Yaml().load(in);
            Map<String, String> flat = new TreeMap<>();
            if (root instanceof Map<?, ?> map) {
                flatten("", map, flat);
            } else if (root != null) {
                throw new IllegalArgumentException(configYaml + ": expected a YAML mapping at the top level");
            }
            return new ClusterConfig(flat);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read Flink configuration " + configYaml, e);
        }
    }

    public static ClusterConfig of(Map<String, String> values) {
        return new ClusterConfig(values);
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, out);
            } else if (e.getValue() instanceof List<?> list) {
                out.put(key, String.join(";", list.stream().map(String::valueOf).toList()));
            } else if (e.getValue() != null) {
                out.put(key, String.valueOf(e.getValue()));
            }
        }
    }

    /** A copy with {@code overrides} applied (a null value removes the key). */
    public ClusterConfig with(Map<String, String> overrides) {
        Map<String, String> copy = new TreeMap<>(values);
        overrides.forEach((k, v) -> {
            if (v == null) {
                copy.remove(k);
            } else {
                copy.put(k, v);
            }
        });
        return new ClusterConfig(copy);
    }

    public ClusterConfig with(String key, String value) {
        Map<String, String> one = new LinkedHashMap<>();
        one.put(key, value);
        return with(one);
    }

    /** A copy in which relative local paths and file URIs are resolved against {@code base}. */
    public ClusterConfig resolvePaths(Path base) {
        Map<String, String> copy = new TreeMap<>(values);
        for (String key : PATH_KEYS) {
            String v = copy.get(key);
            if (v != null) {
                // io.tmp.dirs may list several folders, separated by ',' or the path separator.
                copy.put(key, String.join(",", Arrays.stream(v.split("[,:;]"))
                        .map(String::strip).filter(s -> !s.isEmpty())
                        .map(p -> base.resolve(p).toAbsolutePath().normalize().toString()).toList()));
            }
        }
        for (String key : URI_KEYS) {
            String v = copy.get(key);
            if (v != null && !v.contains("://")) {
                copy.put(key, base.resolve(v).toAbsolutePath().normalize().toUri().toString());
            }
        }
        return new ClusterConfig(copy);
    }

    public Map<String, String> asMap() {
        return java.util.Collections.unmodifiableMap(values);
    }

    public String get(String key) {
        return values.get(key);
    }

    public String get(String key, String defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    public int getInt(String key, int defaultValue) {
        String v = values.get(key);
        return v == null ? defaultValue : Integer.parseInt(v.strip());
    }

    public int restPort() {
        return getInt(REST_PORT, 8081);
    }

    /** {@code http://host:port} of the REST API and Web UI. */
    public String restUrl() {
        String host = get(REST_ADDRESS, "localhost");
        return "http://" + host + ":" + restPort();
    }

    /** The local folders of io.tmp.dirs (after {@link #resolvePaths(Path)}). */
    public List<Path> tmpDirs() {
        String v = get("io.tmp.dirs");
        if (v == null) {
            return List.of();
        }
        return Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(Path::of).toList();
    }

    /** The local folder of a {@code file://} URI setting, or null. */
    public Path localDir(String uriKey) {
        String v = get(uriKey);
        if (v == null || !v.startsWith("file:")) {
            return null;
        }
        return Path.of(java.net.URI.create(v));
    }

    /** JVM options from env.java.opts.all plus env.java.opts.{@code role} (what Flink's scripts pass). */
    public List<String> javaOpts(String role) {
        List<String> opts = new java.util.ArrayList<>();
        for (String key : List.of("env.java.default-opts.all", "env.java.opts.all", "env.java.default-opts." + role,
                "env.java.opts." + role)) {
            String v = get(key);
            if (v != null && !v.isBlank()) {
                opts.addAll(Arrays.stream(v.strip().split("\\s+")).toList());
            }
        }
        return opts;
    }

    /** Writes the settings as a flat Flink 2.x {@code config.yaml}. */
    public void write(Path configYaml) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setWidth(Integer.MAX_VALUE);
        String header = "# Generated by bin/horizons cluster start from flink-conf/config.yaml; edit that file instead.\n";
        try {
            Files.createDirectories(configYaml.getParent());
            Files.writeString(configYaml, header + new Yaml(options).dump(new TreeMap<>(values)));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + configYaml, e);
        }
    }
}
