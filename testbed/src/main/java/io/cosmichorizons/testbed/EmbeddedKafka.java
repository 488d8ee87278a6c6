package io.cosmichorizons.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (combined broker and controller) running in a child JVM.
 *
 * <p>The child runs {@code kafka.Kafka server.properties} (through {@link ChildMain}, which also ends the child when
 * this JVM is gone) with this JVM's classpath, which holds {@code kafka_2.13}. Its storage is formatted once with
 * {@code kafka.tools.StorageTool format --standalone}; {@link #restart()} reuses the same ports and data directory, so
 * topics and records survive and clients configured with {@link #bootstrapServers()} reconnect.
 *
 * <p>Layout of the data directory: {@code server.properties}, {@code log4j2.properties}, {@code classpath.args} (the
 * children's {@code -cp}, as a JDK argument file), {@code kraft-logs/} (the log and metadata directory),
 * {@code logs/server.log} (the broker's log), {@code logs/broker.stdout}, {@code logs/broker.stderr} and
 * {@code logs/format.out}.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.builder().port(9092).build().start()) {
 *     String bootstrap = kafka.bootstrapServers(); // "127.0.0.1:9092"
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);
    /** The classpath resource copied into the data directory as the broker's log4j2 configuration. */
    public static final String LOG4J2_RESOURCE = "horizons-embedded-kafka-log4j2.properties";

    private static final List<String> BROKER_JVM_FLAGS = List.of("-Xmx512m", "-Xms256m", "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true");
    private static final List<String> TOOL_JVM_FLAGS = List.of("-Xmx256m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true");

    private final int requestedPort;
    private final int requestedControllerPort;
    private final Path dataDir;
    private final boolean keepData;
    private final Map<String, String> extraProperties;
    private final Duration startupTimeout;
    private final Duration stopTimeout;

    private int port = -1;
    private int controllerPort = -1;
    private volatile Process process;
    private volatile boolean closed;
    private Thread shutdownHook;
    private Duration lastStartupDuration;

    private EmbeddedKafka(Builder b) throws IOException {
        this.requestedPort = b.port;
        this.requestedControllerPort = b.controllerPort;
        this.dataDir = b.dataDir != null ? b.dataDir.toAbsolutePath().normalize()
                : Files.createTempDirectory("horizons-kafka-");
        this.keepData = b.keepData != null ? b.keepData : b.dataDir != null;
        this.extraProperties = Map.copyOf(b.properties);
        this.startupTimeout = b.startupTimeout;
        this.stopTimeout = b.stopTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Formats the storage if the data directory is not formatted yet, launches the broker and waits until it answers
     * a describeCluster request. A no-op if it is already running.
     *
     * @throws IllegalStateException if the port is taken, the broker dies, or it is not ready within the startup
     *                               timeout (the message includes the tail of the broker's log)
     */
    public synchronized EmbeddedKafka start() {
        if (closed) {
            throw new IllegalStateException("EmbeddedKafka is closed");
        }
        if (isRunning()) {
            return this;
        }
        long started = System.nanoTime();
        long deadline = started + startupTimeout.toNanos();
        try {
            resolvePorts();
            Files.createDirectories(logsDir());
            Files.createDirectories(kraftLogDir());
            writeServerProperties();
            writeLog4jConfig();
            registerShutdownHook();
            if (!isFormatted()) {
                format(deadline);
            }
            launch();
            awaitReady(deadline);
        } catch (IOException e) {
            destroyQuietly();
            throw new UncheckedIOException("Could not start the embedded Kafka broker in " + dataDir, e);
        } catch (RuntimeException e) {
            destroyQuietly();
            throw e;
        }
        lastStartupDuration = Duration.ofNanos(System.nanoTime() - started);
        LOG.info("Embedded Kafka broker ready at {} in {} ms (pid {}, data {})", bootstrapServers(),
                lastStartupDuration.toMillis(), pid(), dataDir);
        return this;
    }

    /** Graceful stop: SIGTERM, wait up to the stop timeout, then SIGKILL. A no-op if it is not running. */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        if (p.isAlive()) {
            long t0 = System.nanoTime();
            p.destroy();
            if (!waitFor(p, stopTimeout)) {
                LOG.warn("Kafka broker (pid {}) did not stop within {} s; killing it", p.pid(), stopTimeout.toSeconds());
                p.destroyForcibly();
                waitFor(p, Duration.ofSeconds(10));
            }
            LOG.info("Embedded Kafka broker at {} stopped in {} ms", bootstrapServers(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
        process = null;
    }

    /**
     * Like {@code kill -9}: SIGKILL without a graceful shutdown, then waits until the process is gone.
     *
     * <p>The next {@link #start()} takes about {@code broker.session.timeout.ms} (9 s by default) longer than after
     * {@link #stop()}: the restarted controller keeps the killed incarnation's registration until its session expires
     * and rejects the new one meanwhile (DuplicateBrokerRegistrationException in the broker log). Tests that kill the
     * broker can shorten it, e.g. {@code brokerProperty("broker.session.timeout.ms", "3000")} with
     * {@code brokerProperty("broker.heartbeat.interval.ms", "500")}.
     */
    public synchronized void kill() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        if (!waitFor(p, Duration.ofSeconds(30))) {
            throw new IllegalStateException("Kafka broker (pid " + p.pid() + ") survived SIGKILL for 30 s");
        }
        LOG.info("Embedded Kafka broker at {} killed (pid {})", bootstrapServers(), p.pid());
        process = null;
    }

    /** Stops the broker if it runs (gracefully), then starts it again on the same ports and data directory. */
    public synchronized EmbeddedKafka restart() {
        stop();
        return start();
    }

    /** Stops the broker and deletes the data directory unless it is kept (see {@link Builder#keepData(boolean)}). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            stop();
        } finally {
            closed = true;
            if (!keepData) {
                ChildJvm.deleteRecursively(dataDir);
            }
            removeShutdownHook();
        }
    }

    /** {@code 127.0.0.1:port}; the port is fixed at the first {@link #start()}. */
    public synchronized String bootstrapServers() {
        if (port <= 0) {
            throw new IllegalStateException("The broker has not been started yet, so its port is not chosen yet");
        }
        return "127.0.0.1:" + port;
    }

    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The broker JVM's process id, or -1 if it is not running. */
    public long pid() {
        Process p = process;
        return p != null && p.isAlive() ? p.pid() : -1;
    }

    /** The broker port (after the first start; -1 before, unless a fixed port was requested). */
    public synchronized int port() {
        return port > 0 ? port : (requestedPort > 0 ? requestedPort : -1);
    }

    public synchronized int controllerPort() {
        return controllerPort;
    }

    public Path dataDirectory() {
        return dataDir;
    }

    /** The broker's log4j log file. */
    public Path serverLog() {
        return logsDir().resolve("server.log");
    }

    /** How long the last successful {@link #start()} took (format, if needed, plus launch until ready). */
    public synchronized Duration lastStartupDuration() {
        return lastStartupDuration;
    }

    public boolean keepsData() {
        return keepData;
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + (port > 0 ? "127.0.0.1:" + port : "not started") + ", data " + dataDir + "]";
    }

    // ---------------------------------------------------------------------------------------------------------------

    private Path logsDir() {
        return dataDir.resolve("logs");
    }

    private Path kraftLogDir() {
        return dataDir.resolve("kraft-logs");
    }

    private Path serverProperties() {
        return dataDir.resolve("server.properties");
    }

    private Path log4jConfig() {
        return dataDir.resolve("log4j2.properties");
    }

    private boolean isFormatted() {
        return Files.isRegularFile(kraftLogDir().resolve("meta.properties"));
    }

    private void resolvePorts() {
        if (port <= 0) {
            port = choosePort(requestedPort, "broker");
        } else if (!Ports.isFree(port)) {
            throw new IllegalStateException("Cannot restart the Kafka broker: port " + port + " is taken");
        }
        if (controllerPort <= 0) {
            controllerPort = choosePort(requestedControllerPort, "controller");
            while (controllerPort == port) {
                controllerPort = Ports.freePort();
            }
        } else if (!Ports.isFree(controllerPort)) {
            throw new IllegalStateException("Cannot restart the Kafka broker: controller port " + controllerPort
                    + " is taken");
        }
    }

    private static int choosePort(int requested, String what) {
        if (requested == 0) {
            return Ports.freePort();
        }
        if (!Ports.isFree(requested)) {
            throw new IllegalStateException("Kafka " + what + " port " + requested + " is already in use; choose "
                    + "another port, or set KAFKA_BOOTSTRAP_SERVERS to use the Kafka that listens there");
        }
        return requested;
    }

    /** The generated broker configuration: defaults for a single node, then the builder's extra properties. */
    Map<String, String> brokerProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", kraftLogDir().toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("auto.create.topics.enable", "false");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "10");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "10");
        p.put("transaction.max.timeout.ms", "900000");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Smaller thread pools and cleaner buffer than the defaults: this broker shares 2 cores with everything else.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("log.cleaner.dedupe.buffer.size", "33554432");
        p.putAll(extraProperties);
        return p;
    }

    private void writeServerProperties() throws IOException {
        StringBuilder text = new StringBuilder("# Generated by io.cosmichorizons.testbed.EmbeddedKafka\n");
        brokerProperties().forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(serverProperties(), text, StandardCharsets.UTF_8);
    }

    private void writeLog4jConfig() throws IOException {
        try (InputStream in = EmbeddedKafka.class.getClassLoader().getResourceAsStream(LOG4J2_RESOURCE)) {
            if (in == null) {
                throw new IOException("Classpath resource " + LOG4J2_RESOURCE + " is missing");
            }
            Files.copy(in, log4jConfig(), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private List<String> jvmFlags(List<String> base) {
        List<String> flags = new java.util.ArrayList<>(base);
        flags.add("-Dkafka.logs.dir=" + logsDir());
        flags.add("-Dlog4j2.configurationFile=" + log4jConfig());
        return flags;
    }

    private void format(long deadline) throws IOException {
        String clusterId = Uuid.randomUuid().toString();
        Path out = logsDir().resolve("format.out");
        List<String> command = ChildJvm.command(dataDir.resolve("classpath.args"), jvmFlags(TOOL_JVM_FLAGS),
                "kafka.tools.StorageTool",
                List.of("format", "--standalone", "-c", serverProperties().toString(), "-t", clusterId));
        LOG.debug("Formatting Kafka storage: {}", command);
        long t0 = System.nanoTime();
        Process formatter = new ProcessBuilder(command)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .start();
        long remaining = deadline - System.nanoTime();
        if (!waitFor(formatter, Duration.ofNanos(Math.max(remaining, 0)))) {
            formatter.destroyForcibly();
            throw new IllegalStateException("Formatting Kafka storage did not finish before the startup deadline. "
                    + "Output (" + out + "):\n" + ChildJvm.tail(out, 40));
        }
        if (formatter.exitValue() != 0 || !isFormatted()) {
            throw new IllegalStateException("Formatting Kafka storage failed with exit code " + formatter.exitValue()
                    + ". Output (" + out + "):\n" + ChildJvm.tail(out, 40));
        }
        LOG.info("Formatted Kafka storage in {} ({} ms, cluster id {})", kraftLogDir(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), clusterId);
    }

    private void launch() throws IOException {
        List<String> command = ChildJvm.command(dataDir.resolve("classpath.args"), jvmFlags(BROKER_JVM_FLAGS),
                "kafka.Kafka",
                List.of(serverProperties().toString()));
        LOG.debug("Launching Kafka broker: {}", command);
        process = new ProcessBuilder(command)
                .directory(dataDir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logsDir().resolve("broker.stdout").toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(logsDir().resolve("broker.stderr").toFile()))
                .start();
    }

    private void awaitReady(long deadline) {
        // First wait for the listener socket, so the admin client does not log a burst of connection failures.
        while (!Ports.accepts(port, 200)) {
            checkAliveAndDeadline(deadline, null);
            pause(50);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "horizons-embedded-kafka-readiness");
        Exception last = null;
        try (Admin admin = Admin.create(props)) {
            while (true) {
                checkAliveAndDeadline(deadline, last);
                long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                int timeoutMs = (int) Math.max(100, Math.min(remainingMs, 3000));
                try {
                    Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs))
                            .nodes().get(timeoutMs + 1000L, TimeUnit.MILLISECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
                }
                pause(100);
            }
        }
    }

    private void checkAliveAndDeadline(long deadline, Exception last) {
        Process p = process;
        if (p == null || !p.isAlive()) {
            String exit = p == null ? "?" : String.valueOf(p.exitValue());
            throw new IllegalStateException("The Kafka broker process exited with code " + exit
                    + " before it was ready." + diagnostics());
        }
        if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("The Kafka broker (pid " + p.pid() + ") was not ready within "
                    + startupTimeout.toSeconds() + " s" + (last != null ? " (last error: " + last + ")" : "") + "."
                    + diagnostics());
        }
    }

    private String diagnostics() {
        return "\n--- last lines of " + serverLog() + " ---\n" + ChildJvm.tail(serverLog(), 40)
                + "\n--- last lines of " + logsDir().resolve("broker.stderr") + " ---\n"
                + ChildJvm.tail(logsDir().resolve("broker.stderr"), 20);
    }

    private void destroyQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            waitFor(p, Duration.ofSeconds(10));
            process = null;
        }
    }

    private synchronized void registerShutdownHook() {
        if (shutdownHook != null) {
            return;
        }
        Thread hook = new Thread(this::onJvmShutdown, "embedded-kafka-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            shutdownHook = hook;
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already shutting down; ChildMain ends the child when we are gone.
        }
    }

    private synchronized void removeShutdownHook() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or about to.
            }
            shutdownHook = null;
        }
    }

    /** Runs without the monitor: a thread inside {@link #start()} may hold it while the JVM shuts down. */
    private void onJvmShutdown() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroy();
            if (!waitFor(p, Duration.ofSeconds(10))) {
                p.destroyForcibly();
                waitFor(p, Duration.ofSeconds(5));
            }
        }
        if (!keepData && !closed) {
            ChildJvm.deleteRecursively(dataDir);
        }
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
        }
    }

    /** Options for {@link EmbeddedKafka}. */
    public static final class Builder {
        private int port = 0;
        private int controllerPort = 0;
        private Path dataDir;
        private Boolean keepData;
        private final Map<String, String> properties = new TreeMap<>();
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
        private Duration stopTimeout = DEFAULT_STOP_TIMEOUT;

        private Builder() {
        }

        /** The PLAINTEXT port on 127.0.0.1; 0 (the default) picks a free one. The demo uses 9092. */
        public Builder port(int port) {
            this.port = checkPort(port);
            return this;
        }

        /** The CONTROLLER port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder controllerPort(int controllerPort) {
            this.controllerPort = checkPort(controllerPort);
            return this;
        }

        /**
         * Where the broker keeps its configuration, logs and data. Default: a new temporary directory, deleted on
         * {@link EmbeddedKafka#close()}. A directory given here is kept unless {@code keepData(false)} is set.
         */
        public Builder dataDirectory(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Whether {@link EmbeddedKafka#close()} leaves the data directory in place. */
        public Builder keepData(boolean keepData) {
            this.keepData = keepData;
            return this;
        }

        /** An extra broker property; it overrides the generated one of the same name. */
        public Builder brokerProperty(String key, String value) {
            properties.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        public Builder brokerProperties(Map<String, String> extra) {
            extra.forEach(this::brokerProperty);
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** A broker that is not started yet. */
        public EmbeddedKafka build() {
            try {
                return new EmbeddedKafka(this);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not create a temporary data directory", e);
            }
        }

        /** {@code build().start()}. */
        public EmbeddedKafka start() {
            EmbeddedKafka kafka = build();
            try {
                return kafka.start();
            } catch (RuntimeException e) {
                kafka.close();
                throw e;
            }
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("Not a TCP port: " + port);
            }
            return port;
        }
    }
}
