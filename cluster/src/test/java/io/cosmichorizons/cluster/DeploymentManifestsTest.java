package io.cosmichorizons.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.audit.AuditJob;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.io.db.AuditWriterLogin;
import io.cosmichorizons.topics.Topics;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml and deploy/k8s/flinkdeployment.yaml cannot be started here (no Docker engine, no Kubernetes),
 * so they are parsed and checked against the code: topic names against {@link Topics#ALL}, jobs and options against
 * {@link PipelineJobs#ALL}, Flink keys and values against flink-conf/config.yaml, ports and addresses against each
 * other, image versions against the build's Flink and Kafka.
 */
class DeploymentManifestsTest {

    static final Path HOME = FlinkRuntime.home();
    static final String VERSION = System.getProperty("horizons.version", "0.1.0-SNAPSHOT");

    /** config.yaml keys whose production values the Kubernetes deployment must not change. */
    static final List<String> PRODUCTION_KEYS = List.of("execution.checkpointing.mode", "execution.checkpointing.interval",
            "execution.checkpointing.timeout", "execution.checkpointing.incremental",
            "execution.checkpointing.externalized-checkpoint-retention", "state.backend.type", "restart-strategy.type",
            "restart-strategy.exponential-delay.initial-backoff", "restart-strategy.exponential-delay.max-backoff",
            "restart-strategy.exponential-delay.backoff-multiplier", "heartbeat.interval", "heartbeat.timeout",
            "metrics.reporter.prom.factory.class");

    // ------------------------------------------------------------------------------------------ docker-compose.yml

    @Test
    void composeHasAThreeBrokerKraftKafkaThatTheClientsPointAt() {
        Map<String, Map<String, Object>> services = composeServices();
        List<String> brokers = services.keySet().stream().filter(s -> s.startsWith("kafka-")).sorted().toList();
        assertEquals(List.of("kafka-1", "kafka-2", "kafka-3"), brokers);
        Set<String> clusterIds = new TreeSet<>();
        Set<String> internal = new TreeSet<>();
        for (String broker : brokers) {
            Map<String, String> env = env(services.get(broker));
            assertEquals("apache/kafka:" + AppInfoParser.getVersion(), services.get(broker).get("image"),
                    "the broker image matches the kafka-clients of the build");
            assertEquals("broker,controller", env.get("KAFKA_PROCESS_ROLES"), broker + " is a KRaft combined node");
            String nodeId = env.get("KAFKA_NODE_ID");
            assertTrue(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS").contains(nodeId + "@" + broker + ":9093"), broker);
            clusterIds.add(env.get("CLUSTER_ID"));
            Matcher m = Pattern.compile("INTERNAL://([\\w-]+):(\\d+)").matcher(env.get("KAFKA_ADVERTISED_LISTENERS"));
            assertTrue(m.find(), broker);
            assertEquals(broker, m.group(1));
            assertTrue(env.get("KAFKA_LISTENERS").contains("INTERNAL://:" + m.group(2)), broker);
            internal.add(m.group(1) + ":" + m.group(2));
            assertEquals(Integer.parseInt(env.get("KAFKA_MIN_INSYNC_REPLICAS")) + 1,
                    Integer.parseInt(env.get("KAFKA_DEFAULT_REPLICATION_FACTOR")), "one broker may be down");
        }
        assertEquals(1, clusterIds.size(), "one cluster id");
        for (String cli : List.of("init", "submit", "generator")) {
            String bootstrap = env(services.get(cli)).get("KAFKA_BOOTSTRAP_SERVERS");
            assertEquals(internal, new TreeSet<>(List.of(bootstrap.split(","))), cli + " bootstrap servers");
        }
    }

    @Test
    void composeCreatesTheCodesTopicsAndAppliesTheMigrations() {
        Map<String, Map<String, Object>> services = composeServices();
        String init = String.join(" ", strings(services.get("init").get("command")));
        assertTrue(init.contains("bin/horizons topics create"), "topics come from Topics.ALL: " + init);
        assertTrue(init.contains("bin/horizons db migrate"), init);
        Matcher rf = Pattern.compile("--replication-factor (\\d+)").matcher(init);
        assertTrue(rf.find());
        assertEquals(env(services.get("kafka-1")).get("KAFKA_DEFAULT_REPLICATION_FACTOR"), rf.group(1));
        // The jobs run with their default topic names, so those must be the topics that `topics create` makes.
        Set<String> topics = Topics.ALL.stream().map(Topics.TopicSpec::name).collect(Collectors.toSet());
        for (PipelineJob job : PipelineJobs.ALL) {
            for (Option o : job.options()) {
                if (o.key().startsWith("topics.")) {
                    assertTrue(topics.contains(o.defaultValue()), job.name() + " " + o.key() + " = " + o.defaultValue()
                            + " is not in Topics.ALL");
                }
            }
        }
        // Any topic named explicitly in the manifests (--topics.x NAME) must exist too.
        for (String text : List.of(read("docker-compose.yml"), read("deploy/k8s/flinkdeployment.yaml"))) {
            Matcher m = Pattern.compile("--topics\\.[\\w-]+\"?[ ,]+\"?([\\w.-]+)").matcher(text);
            while (m.find()) {
                assertTrue(topics.contains(m.group(1)), m.group());
            }
        }
    }

    @Test
    void composePostgresMatchesTheJdbcUrl() {
        Map<String, Map<String, Object>> services = composeServices();
        Map<String, String> pg = env(services.get("postgres"));
        URI url = URI.create(env(services.get("init")).get("JDBC_URL").substring("jdbc:".length()));
        assertEquals("postgres", url.getHost());
        assertTrue(strings(services.get("postgres").get("ports")).contains("5432:" + url.getPort()));
        assertEquals("/" + pg.get("POSTGRES_DB"), url.getPath());
        assertTrue(url.getQuery().contains("user=" + pg.get("POSTGRES_USER")));
        assertTrue(url.getQuery().contains("password=" + pg.get("POSTGRES_PASSWORD")));
    }

    @Test
    void composeFlinkUsesTheOfficialImageOurConfigAndTheMountedJobJar() {
        Map<String, Map<String, Object>> services = composeServices();
        ClusterConfig config = ClusterConfig.read(HOME.resolve("flink-conf/config.yaml"));
        String flinkVersion = EnvironmentInformation.getVersion();
        for (String name : List.of("jobmanager", "taskmanager")) {
            Map<String, Object> service = services.get(name);
            String image = (String) service.get("image");
            assertTrue(image.startsWith("flink:" + flinkVersion), name + " runs the build's Flink " + flinkVersion + ": " + image);
            List<String> volumes = strings(service.get("volumes"));
            assertTrue(volumes.contains("./flink-conf:/opt/horizons/flink-conf:ro"), volumes::toString);
            assertTrue(volumes.contains("./jobs/target:/opt/flink/usrlib:ro"), "the job jar is mounted");
            assertTrue(String.join(" ", strings(service.get("entrypoint"))).contains("cp /opt/horizons/flink-conf/* /opt/flink/conf/"));
            // Every -D override is a key of config.yaml (so a renamed key cannot silently stop overriding anything).
            List<String> command = strings(service.get("command"));
            Map<String, String> overrides = new LinkedHashMap<>();
            for (int i = 0; i < command.size() - 1; i++) {
                if (command.get(i).equals("-D")) {
                    String[] kv = command.get(i + 1).split("=", 2);
                    overrides.put(kv[0], kv[1]);
                }
            }
            for (String key : overrides.keySet()) {
                assertTrue(config.get(key) != null, name + ": -D " + key + " is not a key of flink-conf/config.yaml");
            }
            String prom = overrides.get("metrics.reporter.prom.port");
            assertTrue(inRange(Integer.parseInt(prom), config.get("metrics.reporter.prom.port")), name + " Prometheus port");
            assertTrue(strings(service.get("ports")).contains(prom + ":" + prom), name + " publishes Prometheus " + prom);
        }
        assertTrue(strings(services.get("jobmanager").get("ports")).contains(config.restPort() + ":" + config.restPort()),
                "the Web UI is published on rest.port");
        List<String> submit = strings(services.get("submit").get("command"));
        assertEquals(List.of("submit", "all"), submit.subList(0, 2), "every job of PipelineJobs.ALL is submitted");
        assertEquals("/opt/flink/usrlib/horizons-jobs-" + VERSION + "-job.jar", submit.get(submit.indexOf("--jar") + 1));
        assertEquals("http://jobmanager:" + config.restPort(), submit.get(submit.indexOf("--flink-url") + 1));
        assertTrue(Files.isRegularFile(HOME.resolve("deploy/docker/cli.Dockerfile")));
    }

    /**
     * The audit job writes the ledger as its own login, not as the owner: init creates that login as a member of
     * horizons_audit_writer (db migrate --audit-login), and only the audit job gets its URL, in both deployments.
     */
    @Test
    void theAuditJobWritesAsItsOwnLoginInTheWriterRole() {
        // The role the login joins, and the only privileges V002 gives it on the ledger.
        assertEquals("horizons_audit_writer", AuditWriterLogin.WRITER_ROLE);
        String v002 = read("sql/migrations/V002__audit_ledger.sql");
        assertTrue(v002.contains("GRANT SELECT, INSERT ON audit_events TO " + AuditWriterLogin.WRITER_ROLE), v002);

        Map<String, Map<String, Object>> services = composeServices();
        String init = String.join(" ", strings(services.get("init").get("command")));
        Matcher login = Pattern.compile("bin/horizons db migrate[^&;]*--audit-login (\\w+)").matcher(init);
        assertTrue(login.find(), "init creates the audit job's login: " + init);
        Matcher passwordEnv = Pattern.compile("--audit-password-env (\\w+)").matcher(init);
        String passwordVariable = passwordEnv.find() ? passwordEnv.group(1) : "AUDIT_DB_PASSWORD";
        String password = composeDefault(env(services.get("init")).get(passwordVariable));
        assertNotNull(password, "init has the login's password in " + passwordVariable);

        Map<String, String> submit = env(services.get("submit"));
        URI owner = jdbcUri(submit.get("JDBC_URL"));
        URI audit = jdbcUri(composeDefault(submit.get("AUDIT_JDBC_URL")));
        assertEquals(login.group(1), query(audit).get("user"), "submit gives the audit job the login init creates");
        assertEquals(password, query(audit).get("password"));
        assertNotEquals(query(owner).get("user"), login.group(1), "not the owner");
        assertEquals(owner.getHost() + ":" + owner.getPort() + owner.getPath(),
                audit.getHost() + ":" + audit.getPort() + audit.getPath(), "the same database");

        // Kubernetes: the header's migrate step creates the same kind of login, the secret holds its URL, and only the
        // audit deployment takes JDBC_URL from it (an env entry wins over envFrom).
        String k8s = read("deploy/k8s/flinkdeployment.yaml");
        Matcher k8sLogin = Pattern.compile("(?s)bin/horizons db migrate .*?--audit-login (\\w+)").matcher(k8s);
        assertTrue(k8sLogin.find(), "the header creates the audit job's login");
        Matcher k8sUrl = Pattern.compile("--from-literal=AUDIT_JDBC_URL='([^']+)'").matcher(k8s);
        assertTrue(k8sUrl.find(), "the secret holds AUDIT_JDBC_URL");
        assertEquals(k8sLogin.group(1), query(jdbcUri(k8sUrl.group(1))).get("user"));
        for (Map<String, Object> d : flinkDeployments()) {
            String entryClass = (String) map(map(d.get("spec")).get("job")).get("entryClass");
            Map<String, Object> jdbcUrl = null;
            for (Object c : (List<?>) map(map(map(d.get("spec")).get("podTemplate")).get("spec")).get("containers")) {
                for (Object e : (List<?>) map(c).getOrDefault("env", List.of())) {
                    if ("JDBC_URL".equals(map(e).get("name"))) {
                        jdbcUrl = map(e);
                    }
                }
            }
            if (entryClass.equals(AuditJob.class.getName())) {
                assertNotNull(jdbcUrl, "the audit deployment sets its own JDBC_URL");
                Map<String, Object> ref = map(map(jdbcUrl.get("valueFrom")).get("secretKeyRef"));
                assertEquals("horizons-services", ref.get("name"));
                assertEquals("AUDIT_JDBC_URL", ref.get("key"));
            } else {
                assertEquals(null, jdbcUrl, entryClass + " keeps the secret's JDBC_URL");
            }
        }
    }

    /** {@code ${VAR:-default}} as docker compose resolves it when VAR is not set. */
    static String composeDefault(String value) {
        return value == null ? null : value.replaceAll("\\$\\{\\w+:-([^}]*)}", "$1");
    }

    static URI jdbcUri(String jdbcUrl) {
        assertNotNull(jdbcUrl);
        assertTrue(jdbcUrl.startsWith("jdbc:postgresql://"), jdbcUrl);
        return URI.create(jdbcUrl.substring("jdbc:".length()));
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> params = new TreeMap<>();
        for (String kv : String.valueOf(uri.getQuery()).split("&")) {
            String[] parts = kv.split("=", 2);
            params.put(parts[0], parts.length > 1 ? parts[1] : "");
        }
        return params;
    }

    // ------------------------------------------------------------------------------------------ Kubernetes

    @Test
    void everyJobHasAFlinkDeploymentWithItsMainClassAndDocumentedArgs() throws Exception {
        List<Map<String, Object>> deployments = flinkDeployments();
        Map<String, Map<String, Object>> byEntryClass = new HashMap<>();
        for (Map<String, Object> d : deployments) {
            Map<String, Object> job = map(map(d.get("spec")).get("job"));
            String entryClass = (String) job.get("entryClass");
            Method main = Class.forName(entryClass).getMethod("main", String[].class);
            assertTrue(Modifier.isStatic(main.getModifiers()), entryClass);
            assertEquals(null, byEntryClass.put(entryClass, d), "one deployment per job: " + entryClass);
        }
        for (PipelineJob job : PipelineJobs.ALL) {
            Map<String, Object> d = byEntryClass.get(job.mainClass().getName());
            assertNotNull(d, "no FlinkDeployment for " + job.name() + " (" + job.mainClass().getName() + ")");
            assertEquals(job.jobName(), map(d.get("metadata")).get("name"));
            List<String> args = strings(map(map(d.get("spec")).get("job")).get("args"));
            Set<String> documented = job.options().stream().map(Option::key).collect(Collectors.toSet());
            for (int i = 0; i < args.size(); i += 2) {
                assertTrue(args.get(i).startsWith("--") && documented.contains(args.get(i).substring(2)),
                        job.name() + ": " + args.get(i) + " is not an option of the job");
            }
        }
    }

    @Test
    void flinkDeploymentsUseConfigYamlKeysAndProductionValues() throws Exception {
        ClusterConfig config = ClusterConfig.read(HOME.resolve("flink-conf/config.yaml"));
        Set<String> known = FlinkConfigTest.knownFlinkKeys();
        String flinkVersion = EnvironmentInformation.getVersion();
        String expectedFlinkVersion = "v" + flinkVersion.replaceAll("^(\\d+)\\.(\\d+).*", "$1_$2");
        String jarInImage = jarCopiedByJobDockerfile();
        for (Map<String, Object> d : flinkDeployments()) {
            Map<String, Object> spec = map(d.get("spec"));
            String name = (String) map(d.get("metadata")).get("name");
            assertEquals(expectedFlinkVersion, spec.get("flinkVersion"), name);
            assertTrue(((String) spec.get("image")).endsWith(":" + VERSION), name + " image version");
            assertEquals("local://" + jarInImage, map(spec.get("job")).get("jarURI"), name);
            assertEquals("savepoint", map(spec.get("job")).get("upgradeMode"), name + " upgrades through savepoints");
            Map<String, String> flinkConfiguration = new TreeMap<>();
            map(spec.get("flinkConfiguration")).forEach((k, v) -> flinkConfiguration.put(k, String.valueOf(v)));
            for (String key : flinkConfiguration.keySet()) {
                assertTrue(config.get(key) != null || (key.startsWith("high-availability.") && known.contains(key)),
                        name + ": " + key + " is neither in flink-conf/config.yaml nor a Kubernetes HA key");
            }
            for (String key : PRODUCTION_KEYS) {
                assertEquals(config.get(key), flinkConfiguration.get(key), name + ": " + key);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static boolean inRange(int port, String range) {
        for (String part : range.split(",")) {
            String[] bounds = part.strip().split("-");
            int low = Integer.parseInt(bounds[0]);
            int high = Integer.parseInt(bounds[bounds.length - 1]);
            if (port >= low && port <= high) {
                return true;
            }
        }
        return false;
    }

    private static String jarCopiedByJobDockerfile() {
        Matcher m = Pattern.compile("(?m)^COPY .*horizons-jobs-" + Pattern.quote(VERSION) + "-job\\.jar (\\S+)$")
                .matcher(read("deploy/docker/job.Dockerfile"));
        assertTrue(m.find(), "deploy/docker/job.Dockerfile copies the job jar of this version");
        return m.group(1);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> composeServices() {
        Map<String, Object> compose = (Map<String, Object>) yaml().load(read("docker-compose.yml"));
        return (Map<String, Map<String, Object>>) compose.get("services");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> flinkDeployments() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : yaml().loadAll(read("deploy/k8s/flinkdeployment.yaml"))) {
            if (doc != null) {
                Map<String, Object> d = (Map<String, Object>) doc;
                assertEquals("FlinkDeployment", d.get("kind"));
                assertEquals("flink.apache.org/v1beta1", d.get("apiVersion"));
                out.add(d);
            }
        }
        return out;
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(100); // docker-compose.yml shares settings through YAML anchors
        return new Yaml(options);
    }

    static Map<String, String> env(Map<String, Object> service) {
        Map<String, String> env = new TreeMap<>();
        Object e = service.get("environment");
        if (e instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
        }
        return env;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertNotNull(o);
        return (Map<String, Object>) o;
    }

    static List<String> strings(Object o) {
        if (o == null) {
            return List.of();
        }
        if (o instanceof List<?> list) {
            return list.stream().map(String::valueOf).toList();
        }
        return List.of(String.valueOf(o));
    }

    static String read(String file) {
        try (InputStream in = Files.newInputStream(HOME.resolve(file))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new AssertionError("Cannot read " + file + ": " + e);
        }
    }
}
