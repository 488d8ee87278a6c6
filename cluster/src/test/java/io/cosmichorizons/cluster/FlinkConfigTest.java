package io.cosmichorizons.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.junit.jupiter.api.Test;

/** flink-conf/config.yaml: Flink itself parses it, every key is a real Flink option, and the production defaults hold. */
class FlinkConfigTest {

    static final Path FLINK_CONF = FlinkRuntime.home().resolve("flink-conf");

    /** Classes whose ConfigOption constants are the keys config.yaml may use. */
    private static final List<String> OPTION_CLASSES = List.of(
            "org.apache.flink.configuration.CoreOptions",
            "org.apache.flink.configuration.CheckpointingOptions",
            "org.apache.flink.configuration.StateBackendOptions",
            "org.apache.flink.configuration.StateRecoveryOptions",
            "org.apache.flink.configuration.RestartStrategyOptions",
            "org.apache.flink.configuration.HeartbeatManagerOptions",
            "org.apache.flink.configuration.RpcOptions",
            "org.apache.flink.configuration.JobManagerOptions",
            "org.apache.flink.configuration.TaskManagerOptions",
            "org.apache.flink.configuration.RestOptions",
            "org.apache.flink.configuration.BlobServerOptions",
            "org.apache.flink.configuration.MetricOptions",
            "org.apache.flink.configuration.WebOptions",
            "org.apache.flink.configuration.NettyShuffleEnvironmentOptions",
            "org.apache.flink.configuration.ClusterOptions",
            "org.apache.flink.configuration.SecurityOptions",
            "org.apache.flink.configuration.HighAvailabilityOptions",
            "org.apache.flink.configuration.ExecutionOptions",
            "org.apache.flink.configuration.PipelineOptions",
            "org.apache.flink.state.rocksdb.RocksDBConfigurableOptions",
            "org.apache.flink.state.rocksdb.RocksDBOptions");

    /** Every key (and deprecated/fallback key) Flink defines in {@link #OPTION_CLASSES}. */
    static Set<String> knownFlinkKeys() throws ReflectiveOperationException {
        Set<String> keys = new TreeSet<>();
        for (String name : OPTION_CLASSES) {
            for (Field f : Class.forName(name).getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                    keys.add(o.key());
                    for (FallbackKey k : o.fallbackKeys()) {
                        keys.add(k.getKey());
                    }
                }
            }
        }
        return keys;
    }

    /** Whether {@code key} is a Flink option: a known key, a metrics reporter's setting, or a SQL gateway endpoint's. */
    static boolean isFlinkKey(String key, Set<String> known) {
        return known.contains(key) || key.matches("metrics\\.reporter\\.[\\w-]+\\.[\\w.-]+")
                || key.startsWith("sql-gateway.endpoint.rest.");
    }

    @Test
    void everyKeyIsAFlinkOption() throws Exception {
        Set<String> known = knownFlinkKeys();
        List<String> unknown = new ArrayList<>();
        for (String key : ClusterConfig.read(FLINK_CONF.resolve("config.yaml")).asMap().keySet()) {
            if (!isFlinkKey(key, known)) {
                unknown.add(key);
            }
        }
        assertEquals(List.of(), unknown, "keys in flink-conf/config.yaml that Flink does not define (typos?)");
    }

    @Test
    void flinkParsesItWithTheProductionDefaults() {
        assertTrue(Files.isRegularFile(FLINK_CONF.resolve("config.yaml")));
        assertFalse(Files.exists(FLINK_CONF.resolve("flink-conf.yaml")), "Flink 2.x ignores flink-conf.yaml");
        Configuration conf = GlobalConfiguration.loadConfiguration(FLINK_CONF.toString());

        assertEquals(CheckpointingMode.EXACTLY_ONCE, conf.get(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE));
        assertTrue(conf.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL).isPresent(), "checkpoint interval");
        assertTrue(conf.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT).compareTo(conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)) > 0,
                "the checkpoint timeout exceeds the interval");
        assertEquals("rocksdb", conf.get(StateBackendOptions.STATE_BACKEND));
        assertTrue(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS));
        assertEquals(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION,
                conf.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION));
        assertEquals("exponential-delay", conf.get(RestartStrategyOptions.RESTART_STRATEGY));
        assertTrue(conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF)
                .compareTo(conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF)) > 0);
        Duration interval = conf.get(HeartbeatManagerOptions.HEARTBEAT_INTERVAL);
        assertTrue(conf.get(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT).compareTo(interval.multipliedBy(2)) >= 0,
                "heartbeat timeout of several intervals");
    }

    @Test
    void thePrometheusReporterIsConfiguredAndOnTheClusterClasspath() throws Exception {
        Map<String, String> conf = ClusterConfig.read(FLINK_CONF.resolve("config.yaml")).asMap();
        assertEquals("prom", conf.get("metrics.reporters"));
        String factory = conf.get("metrics.reporter.prom.factory.class");
        assertEquals("org.apache.flink.metrics.prometheus.PrometheusReporterFactory", factory);
        Class.forName(factory);
        assertTrue(conf.get("metrics.reporter.prom.port").matches("\\d+-\\d+"), "a port range: one port per process");
    }

    @Test
    void portsArePinnedAndLocalFoldersAreTheToolsOwn() {
        ClusterConfig conf = ClusterConfig.read(FLINK_CONF.resolve("config.yaml"));
        for (String key : List.of("rest.port", "jobmanager.rpc.port", "blob.server.port", "taskmanager.data.port")) {
            assertTrue(conf.get(key).matches("[1-9]\\d*"), key + " is one fixed port: " + conf.get(key));
        }
        assertTrue(conf.get("taskmanager.rpc.port").matches("\\d+-\\d+"), "a range for several TaskManagers");
        ClusterConfig resolved = conf.resolvePaths(Path.of("/project"));
        assertEquals(List.of(Path.of("/project/.horizons/cluster/tmp")), resolved.tmpDirs(),
                "io.tmp.dirs is under the folder bin/horizons cluster stop cleans");
        assertEquals("file:///project/.horizons/cluster/checkpoints", resolved.get("execution.checkpointing.dir"));
        assertEquals(List.of("--add-opens=java.base/java.util=ALL-UNNAMED"),
                resolved.javaOpts("jobmanager").stream().filter(o -> o.contains("java.base/java.util=")).toList(),
                "Java 17 needs java.util opened for jar submission");
    }

    @Test
    void thereIsALog4jConfigurationForTheClusterProcesses() throws Exception {
        String log4j = Files.readString(FLINK_CONF.resolve("log4j.properties"));
        assertTrue(log4j.contains("${sys:log.file}"), "logs go to -Dlog.file, which the Web UI serves");
    }
}
