package io.cosmichorizons.slurm;

import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the bridge as a process: {@code bin/horizons slurm-bridge} is the operator's way in; this plain main serves
 * places without the CLI (a systemd unit next to slurmctld, the integration test's child process).
 *
 * <pre>
 * java -cp ... io.cosmichorizons.slurm.SlurmBridgeMain --cluster NAME [--poll 1s] [--state-file PATH]
 *     [--spool PATH] [--bootstrap-servers HOST:PORT] [--topic-prefix P] [--format avro|json]
 * </pre>
 */
public final class SlurmBridgeMain {
    /** Every option with its default; null means required or none. */
    static final Map<String, String[]> OPTIONS = new java.util.LinkedHashMap<>();

    static {
        OPTIONS.put("--cluster", new String[] {null, "Cluster name in job ids (slurm:<cluster>:<jobid>) and hpc_system; required"});
        OPTIONS.put("--poll", new String[] {"1s", "Time between two polls of squeue --json"});
        OPTIONS.put("--state-file", new String[] {"slurm-bridge-<cluster>.json", "What was published (restart safety)"});
        OPTIONS.put("--spool", new String[] {null, "Spool file of the hooks in deploy/slurm/hooks (default: env HORIZONS_SLURM_SPOOL, else none)"});
        OPTIONS.put("--bootstrap-servers", new String[] {"localhost:9092", "Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS)"});
        OPTIONS.put("--topic-prefix", new String[] {"", "Prefix of the job-lifecycle topic name"});
        OPTIONS.put("--format", new String[] {"avro", "Wire format: avro or json"});
        OPTIONS.put("--squeue", new String[] {"squeue", "The squeue command (e.g. a wrapper script)"});
        OPTIONS.put("--sacct", new String[] {"sacct", "The sacct command for who cancelled a job; 'none' to never ask"});
        OPTIONS.put("--max-backoff", new String[] {"30s", "Longest wait between retries while Slurm or Kafka is away"});
    }

    private SlurmBridgeMain() {}

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println(usage());
            return;
        }
        Map<String, String> values = parse(args);
        String cluster = values.get("--cluster");
        if (cluster == null) {
            System.err.println("--cluster is required\n\n" + usage());
            System.exit(64);
        }
        String env = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
        String bootstrap = values.getOrDefault("--bootstrap-servers", env != null && !env.isBlank() ? env : "localhost:9092");
        String spool = values.getOrDefault("--spool", System.getenv("HORIZONS_SLURM_SPOOL"));
        SlurmBridge.Config config = new SlurmBridge.Config(cluster,
                parseDuration(values.getOrDefault("--poll", "1s")),
                Path.of(values.getOrDefault("--state-file", "slurm-bridge-" + cluster + ".json")),
                spool == null || spool.isBlank() ? null : Path.of(spool),
                parseDuration(values.getOrDefault("--max-backoff", "30s")),
                Duration.ofSeconds(60), Duration.ofDays(1));
        String sacct = values.getOrDefault("--sacct", "sacct");
        Slurm slurm = new SlurmCommands(List.of(values.getOrDefault("--squeue", "squeue").split("\\s+")),
                sacct.equals("none") ? null : sacct, Duration.ofSeconds(30), Map.of());
        WireFormat format = WireFormat.valueOf(values.getOrDefault("--format", "avro").toUpperCase(Locale.ROOT));
        run(config, slurm, bootstrap, TopicNames.defaults().withPrefix(values.getOrDefault("--topic-prefix", "")), format);
    }

    /** Runs the bridge in this thread until the JVM is asked to stop (SIGTERM, Ctrl-C), then closes cleanly. */
    public static void run(SlurmBridge.Config config, Slurm slurm, String bootstrapServers, TopicNames topics,
            WireFormat format) throws Exception {
        EventPublisher publisher = publisher(config, bootstrapServers, topics, format);
        CountDownLatch done = new CountDownLatch(1);
        try (KafkaEventLog log = new KafkaEventLog(publisher, bootstrapServers, Duration.ofSeconds(30));
                SlurmBridge bridge = new SlurmBridge(config, slurm, log)) {
            Thread hook = new Thread(() -> {
                bridge.stop();
                try {
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "slurm-bridge-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                bridge.run();
            } finally {
                done.countDown();
            }
        }
    }

    /** The publisher the bridge uses: producer name slurm-bridge:<cluster>, short timeouts so outages surface fast. */
    public static EventPublisher publisher(SlurmBridge.Config config, String bootstrapServers, TopicNames topics,
            WireFormat format) {
        return EventPublisher.builder()
                .bootstrapServers(bootstrapServers)
                .topics(topics)
                .format(format)
                .producerName("slurm-bridge:" + config.cluster())
                .maxClockSkew(SlurmBridge.MAX_EVENT_AGE)
                .maxBlock(Duration.ofSeconds(15))
                .deliveryTimeout(Duration.ofSeconds(45))
                .producerProperty("client.id", "slurm-bridge-" + config.cluster())
                .build();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            if (!OPTIONS.containsKey(arg)) {
                throw new IllegalArgumentException("unknown option " + arg + "\n\n" + usage());
            }
            values.put(arg, value);
        }
        return values;
    }

    static String usage() {
        StringBuilder sb = new StringBuilder("Usage: SlurmBridgeMain --cluster NAME [options]\n\n");
        OPTIONS.forEach((name, v) -> sb.append(String.format("  %-22s %s%s%n", name, v[1],
                v[0] == null ? "" : " (default " + (v[0].isEmpty() ? "none" : v[0]) + ")")));
        return sb.toString();
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

    /** {@code 500ms}, {@code 1s}, {@code 2m}, {@code 1h}, {@code 1d}; a bare number is seconds. */
    public static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (use e.g. 500ms, 1s, 2m)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
