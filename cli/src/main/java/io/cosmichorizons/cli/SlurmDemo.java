package io.cosmichorizons.cli;

import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.slurm.KafkaEventLog;
import io.cosmichorizons.slurm.SlurmBridge;
import io.cosmichorizons.slurm.SlurmBridgeMain;
import io.cosmichorizons.slurm.SlurmCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code demo --slurm}: a local single-node Slurm ({@code deploy/slurm/local-slurm.sh}), the Slurm bridge in this
 * process, and a stream of real {@code sbatch} jobs (successes, failures, time-outs, cancellations, arrays) in place of
 * the synthetic generator.
 */
final class SlurmDemo implements AutoCloseable {
    static final String CLUSTER = "local";
    private static final String JOB_PREFIX = "horizons-demo-";
    private static final String[] PIPELINES = {"imaging", "calibration", "source-finding"};

    private final Path script;
    private final Map<String, String> env;
    private final Path work;
    private final boolean startedSlurm;
    private final SlurmBridge bridge;
    private final KafkaEventLog log;
    private final Thread bridgeThread;
    private final Thread submitter;
    private volatile boolean stopping;
    private volatile int submitted;

    private SlurmDemo(Path script, Map<String, String> env, Path work, boolean startedSlurm, SlurmBridge bridge,
            KafkaEventLog log) {
        this.script = script;
        this.env = env;
        this.work = work;
        this.startedSlurm = startedSlurm;
        this.bridge = bridge;
        this.log = log;
        this.bridgeThread = new Thread(bridge::run, "demo-slurm-bridge");
        this.submitter = new Thread(this::submitJobs, "demo-slurm-submitter");
        bridgeThread.setDaemon(true);
        submitter.setDaemon(true);
    }

    /** Starts Slurm (installing it if needed), the bridge, and the job stream. */
    static SlurmDemo start(String bootstrapServers, Path data) throws Exception {
        Path script = findScript();
        boolean wasRunning = run(List.of(script.toString(), "status"), Map.of()).exitCode == 0;
        System.out.println("Starting a local Slurm (deploy/slurm/local-slurm.sh start) ...");
        Result started = run(List.of(script.toString(), "start"), Map.of());
        if (started.exitCode != 0) {
            throw new IllegalStateException("--slurm needs a local Slurm, and local-slurm.sh could not start one:\n"
                    + started.output.strip());
        }
        Map<String, String> env = new HashMap<>();
        Matcher m = Pattern.compile("export (\\w+)=(.*)").matcher(run(List.of(script.toString(), "env"), Map.of()).output);
        while (m.find()) {
            env.put(m.group(1), m.group(2));
        }
        Path work = Files.createDirectories(data.resolve("slurm-jobs"));
        SlurmBridge.Config config = new SlurmBridge.Config(CLUSTER, Duration.ofSeconds(1),
                data.resolve("slurm-bridge-" + CLUSTER + ".json"), Path.of(env.get("HORIZONS_SLURM_SPOOL")),
                Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofDays(1));
        KafkaEventLog log = new KafkaEventLog(
                SlurmBridgeMain.publisher(config, bootstrapServers, TopicNames.defaults(), WireFormat.AVRO),
                bootstrapServers, Duration.ofSeconds(30));
        SlurmBridge bridge = new SlurmBridge(config,
                new SlurmCommands(List.of("squeue"), null, Duration.ofSeconds(30), env), log);
        SlurmDemo demo = new SlurmDemo(script, env, work, !wasRunning, bridge, log);
        demo.bridgeThread.start();
        demo.submitter.start();
        System.out.printf("Slurm bridge: cluster '%s', jobs appear as slurm:%s:<jobid>; submitting real sbatch jobs%n%n",
                CLUSTER, CLUSTER);
        return demo;
    }

    /** One line for the live summary. */
    String status() {
        return String.format("%d sbatch jobs submitted, %d lifecycle events published by the Slurm bridge",
                submitted, bridge.publishedTotal());
    }

    /** A job every few seconds while fewer than 8 wait: mostly successes, some failures, time-outs and cancellations. */
    private void submitJobs() {
        Random random = new Random(42);
        while (!stopping) {
            try {
                if (pending() < 8) {
                    submitOne(random);
                }
                TimeUnit.SECONDS.sleep(4); // the demo's submission pace
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (!stopping) {
                    System.out.println("  (Slurm demo: " + e.getMessage() + ")");
                }
            }
        }
    }

    private void submitOne(Random random) throws Exception {
        int n = submitted + 1;
        String pipeline = PIPELINES[random.nextInt(PIPELINES.length)];
        List<String> args = new ArrayList<>(List.of("-J", JOB_PREFIX + pipeline, "--comment=corr:demo-" + n));
        int kind = random.nextInt(20);
        String cancelAfter = null;
        if (kind < 10) {
            args.addAll(List.of("--wrap", "sleep " + (5 + random.nextInt(30)) + "; exit 0"));
        } else if (kind < 13) {
            args.addAll(List.of("--wrap", "sleep " + (2 + random.nextInt(10)) + "; exit 3"));
        } else if (kind < 15) {
            args.addAll(List.of("--time=00:01:00", "--wrap", "sleep 600"));
        } else if (kind < 17) {
            args.addAll(List.of("--hold", "--wrap", "sleep 60"));
            cancelAfter = "10";
        } else if (kind < 19) {
            args.addAll(List.of("--wrap", "sleep 600"));
            cancelAfter = "20";
        } else {
            args.addAll(List.of("--array=0-3%2", "--wrap", "sleep " + (3 + random.nextInt(10))));
        }
        List<String> command = new ArrayList<>(List.of("sbatch", "--parsable", "--chdir=" + work,
                "--output=" + work.resolve("slurm-%j.out")));
        command.addAll(args);
        Result r = run(command, env);
        if (r.exitCode != 0) {
            throw new IllegalStateException("sbatch failed: " + r.output.strip());
        }
        submitted = n;
        if (cancelAfter != null) {
            String id = r.output.strip().split(";")[0];
            // Cancel later without holding up the stream: scancel from a detached shell.
            run(List.of("sh", "-c", "(sleep " + cancelAfter + "; scancel " + id + ") >/dev/null 2>&1 &"), env);
        }
    }

    private int pending() throws Exception {
        Result r = run(List.of("squeue", "-h", "-t", "PD", "-o", "%j"), env);
        return (int) r.output.lines().filter(l -> l.startsWith(JOB_PREFIX)).count();
    }

    @Override
    public void close() throws Exception {
        stopping = true;
        submitter.interrupt();
        bridge.stop();
        bridgeThread.join(30_000);
        log.close();
        run(List.of("sh", "-c", "squeue -h -o '%A %j' | awk '$2 ~ /^" + JOB_PREFIX + "/ {print $1}' | sort -u | xargs -r scancel"), env);
        if (startedSlurm) {
            run(List.of(script.toString(), "stop"), Map.of());
        }
    }

    private static Path findScript() {
        String home = System.getProperty("horizons.home");
        Path dir = Path.of(home != null ? home : System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("deploy/slurm/local-slurm.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("deploy/slurm/local-slurm.sh not found (run the demo from the repository)");
    }

    private record Result(int exitCode, String output) {}

    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("horizons-demo-slurm", ".out");
        try {
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
