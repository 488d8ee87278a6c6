package io.cosmichorizons.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real standalone Flink session cluster on this machine: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and N TaskManagers ({@code TaskManagerRunner}), each its own JVM,
 * launched the way Flink's {@code bin/jobmanager.sh} / {@code bin/taskmanager.sh} launch them: memory flags computed
 * by {@code BashJavaUtils}, the {@code env.java.opts.*} of the configuration (Java 17's {@code --add-opens}), and
 * {@code -Dlog.file} / {@code -Dlog4j.configurationFile} so the Web UI can show every process's log.
 *
 * <p>All state lives in the run directory (default {@code <project>/.horizons/cluster}), so separate CLI invocations
 * can start, inspect and stop the same cluster:
 * <pre>
 *   conf/config.yaml, conf/log4j.properties   effective configuration (from flink-conf/, paths made absolute)
 *   conf/classpath.args                       the processes' -cp, as a JDK argument file
 *   pids/jobmanager.pid, pids/taskmanager-N.pid
 *   log/jobmanager.log|.out, log/taskmanager-N.log|.out
 * </pre>
 * plus io.tmp.dirs, checkpoints and savepoints where the configuration puts them (by default under the run directory
 * too). {@link #stop()} ends the processes by PID and cleans io.tmp.dirs.
 *
 * <p>The chaos helpers {@link #killTaskManager(int)}, {@link #startTaskManager()} and {@link #killJobManager()} send
 * {@code SIGKILL} and start replacements, for failure tests.
 */
public final class LocalCluster {

    public static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    public static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    public static final String SQL_GATEWAY_MAIN = "org.apache.flink.table.gateway.SqlGateway";
    static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    static final String EXEC_RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    private static final String JOB_MANAGER = "jobmanager";
    private static final String TASK_MANAGER = "taskmanager-";
    private static final String SQL_GATEWAY = "sql-gateway";

    private final Path home;
    private final Path runDir;
    private final Path configSource;
    private final Map<String, String> overrides;
    private final boolean dieWithParent;
    private final Duration startupTimeout;
    private final Duration stopTimeout;
    private FlinkRuntime runtime;
    private List<String> taskManagerMemory;

    private LocalCluster(Builder b) {
        this.home = b.home.toAbsolutePath().normalize();
        this.runDir = (b.runDir != null ? b.runDir : home.resolve(".horizons/cluster")).toAbsolutePath().normalize();
        this.configSource = (b.configSource != null ? b.configSource : home.resolve("flink-conf")).toAbsolutePath().normalize();
        this.overrides = new TreeMap<>(b.overrides);
        this.dieWithParent = b.dieWithParent;
        this.startupTimeout = b.startupTimeout;
        this.stopTimeout = b.stopTimeout;
        this.runtime = b.runtime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The cluster of {@code bin/horizons cluster}: {@code <home>/.horizons/cluster}, configured from flink-conf/. */
    public static LocalCluster atHome(Path home) {
        return builder().home(home).build();
    }

    // --------------------------------------------------------------------------------------------------- layout

    public Path runDirectory() {
        return runDir;
    }

    public Path confDirectory() {
        return runDir.resolve("conf");
    }

    public Path logDirectory() {
        return runDir.resolve("log");
    }

    private Path pidDirectory() {
        return runDir.resolve("pids");
    }

    private Path pidFile(String process) {
        return pidDirectory().resolve(process + ".pid");
    }

    /** The log file of a process: {@code jobmanager}, {@code taskmanager-N} or {@code sql-gateway}. */
    public Path logFile(String process) {
        return logDirectory().resolve(process + ".log");
    }

    /**
     * The effective configuration: the one written by the last {@link #start()} if there is one (so a running cluster
     * is described as it was started), else the one {@link #start()} would write.
     */
    public ClusterConfig config() {
        Path effective = confDirectory().resolve("config.yaml");
        if (Files.isRegularFile(effective)) {
            return ClusterConfig.read(effective);
        }
        return effectiveConfig();
    }

    private ClusterConfig effectiveConfig() {
        Path source = configSource.resolve("config.yaml");
        if (!Files.isRegularFile(source)) {
            throw new IllegalStateException("No Flink configuration at " + source);
        }
        return ClusterConfig.read(source).with(overrides).resolvePaths(home);
    }

    public String restUrl() {
        return config().restUrl();
    }

    public FlinkRestClient rest() {
        return new FlinkRestClient(restUrl());
    }

    // --------------------------------------------------------------------------------------------------- start

    /**
     * Writes the effective configuration, starts the JobManager, waits for its REST API, starts {@code taskManagers}
     * TaskManagers and waits until all of them have registered.
     *
     * @throws IllegalStateException if a cluster of this run directory is already running, a port is taken, or a
     *     process dies or is not ready within the startup timeout (the message includes the tail of its log)
     */
    public synchronized void start(int taskManagers) {
        if (taskManagers < 1) {
            throw new IllegalArgumentException("A cluster needs at least one TaskManager");
        }
        Optional<ProcessHandle> running = jobManager();
        if (running.isPresent()) {
            throw new IllegalStateException("A cluster is already running (JobManager pid " + running.get().pid()
                    + ", " + restUrl() + "); stop it first with bin/horizons cluster stop");
        }
        liveProcesses().forEach(p -> kill(p.handle())); // stray TaskManagers of a crashed JobManager
        deletePidFiles(); // and the pid files of processes that died without `cluster stop`
        prepare();
        ClusterConfig config = config();
        for (String key : List.of(ClusterConfig.REST_PORT, "jobmanager.rpc.port", "blob.server.port")) {
            String port = config.get(key);
            if (port != null && port.matches("\\d+") && Integer.parseInt(port) > 0 && !Ports.isFree(Integer.parseInt(port))) {
                throw new IllegalStateException("Port " + port + " (" + key + ") is already in use by another process "
                        + "(is bin/horizons demo or another Flink running?). Stop it, or change " + key + " in "
                        + configSource.resolve("config.yaml"));
            }
        }
        // The two BashJavaUtils runs are JVM starts of a second or more each: do them side by side. The TaskManagers
        // are launched right after the JobManager (they retry until it answers), which saves their JVM startup time.
        java.util.concurrent.CompletableFuture<List<String>> tmMemory =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> bashJavaUtils("GET_TM_RESOURCE_PARAMS"));
        Process jobManager = launchJobManager();
        taskManagerMemory = tmMemory.join();
        for (int i = 0; i < taskManagers; i++) {
            startTaskManager();
        }
        awaitRest(jobManager);
        awaitTaskManagers(taskManagers);
    }

    /** Writes conf/ (config.yaml, log4j.properties, classpath.args) and creates the folders the configuration names. */
    private void prepare() {
        try {
            Files.createDirectories(confDirectory());
            Files.createDirectories(logDirectory());
            Files.createDirectories(pidDirectory());
            ClusterConfig config = effectiveConfig();
            config.write(confDirectory().resolve("config.yaml"));
            Path log4j = configSource.resolve("log4j.properties");
            if (Files.isRegularFile(log4j)) {
                Files.copy(log4j, confDirectory().resolve("log4j.properties"), StandardCopyOption.REPLACE_EXISTING);
            }
            for (Path tmp : config.tmpDirs()) {
                Files.createDirectories(tmp);
            }
            for (String key : ClusterConfig.URI_KEYS) {
                Path dir = config.localDir(key);
                if (dir != null) {
                    Files.createDirectories(dir);
                }
            }
            for (String key : List.of("web.upload.dir", "state.backend.rocksdb.log.dir")) {
                String dir = config.get(key);
                if (dir != null) {
                    Files.createDirectories(Path.of(dir));
                }
            }
            String cp = runtime().classpath();
            if (dieWithParent) {
                cp = cp + java.io.File.pathSeparator + ownCodeSource();
            }
            Files.writeString(confDirectory().resolve("classpath.args"),
                    "-cp\n\"" + cp.replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n", StandardCharsets.UTF_8);
            taskManagerMemory = null;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare the cluster's run directory " + runDir, e);
        }
    }

    /** Starts the JobManager (again, e.g. after {@link #killJobManager()}) and waits until its REST API answers. */
    public synchronized void startJobManager() {
        if (jobManager().isPresent()) {
            throw new IllegalStateException("The JobManager is already running");
        }
        if (!Files.isRegularFile(confDirectory().resolve("config.yaml"))) {
            prepare();
        }
        awaitRest(launchJobManager());
    }

    private Process launchJobManager() {
        List<String> memory = bashJavaUtils("GET_JM_RESOURCE_PARAMS");
        List<String> jvm = new ArrayList<>(split(memory.get(0)));
        jvm.addAll(config().javaOpts("jobmanager"));
        List<String> args = new ArrayList<>(List.of("--configDir", confDirectory().toString()));
        args.addAll(memory.size() > 1 ? split(memory.get(1)) : List.of());
        return launch(JOB_MANAGER, jvm, JOB_MANAGER_MAIN, args, Map.of());
    }

    /**
     * Starts one more TaskManager, in the lowest free slot number (so a killed {@code taskmanager-2} is replaced by a
     * new {@code taskmanager-2}, with the same ports), and returns its number. Does not wait for its registration;
     * see {@link #awaitTaskManagers(int)}.
     */
    public synchronized int startTaskManager() {
        int index = 1;
        while (taskManager(index).isPresent()) {
            index++;
        }
        if (taskManagerMemory == null) {
            taskManagerMemory = bashJavaUtils("GET_TM_RESOURCE_PARAMS");
        }
        ClusterConfig config = config();
        List<String> jvm = new ArrayList<>(split(taskManagerMemory.get(0)));
        jvm.addAll(config.javaOpts("taskmanager"));
        List<String> args = new ArrayList<>(List.of("--configDir", confDirectory().toString()));
        args.addAll(taskManagerMemory.size() > 1 ? split(taskManagerMemory.get(1)) : List.of());
        // A readable, unique id per incarnation: the Web UI lists it, and a replacement is a new TaskManager to Flink.
        String resourceId = "tm-" + index + "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        args.addAll(List.of("-D", "taskmanager.resource-id=" + resourceId));
        int dataPort = config.getInt(ClusterConfig.TM_DATA_PORT, 0);
        if (dataPort > 0) {
            args.addAll(List.of("-D", ClusterConfig.TM_DATA_PORT + "=" + (dataPort + index - 1)));
        }
        launch(TASK_MANAGER + index, jvm, TASK_MANAGER_MAIN, args, Map.of());
        try {
            Files.writeString(pidDirectory().resolve(TASK_MANAGER + index + ".id"), resourceId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return index;
    }

    /** The Flink resource id of the running incarnation of TaskManager {@code index} (as listed by /taskmanagers). */
    public Optional<String> taskManagerResourceId(int index) {
        Path file = pidDirectory().resolve(TASK_MANAGER + index + ".id");
        try {
            return taskManager(index).isPresent() && Files.isRegularFile(file)
                    ? Optional.of(Files.readString(file).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Waits until the running incarnation of TaskManager {@code index} has registered with the JobManager (after a
     * {@link #killTaskManager(int)} and {@link #startTaskManager()}, the count of registered TaskManagers says nothing
     * until the JobManager noticed that the killed one is gone).
     */
    public void awaitTaskManagerRegistered(int index) {
        String id = taskManagerResourceId(index).orElseThrow(() ->
                new IllegalStateException("TaskManager " + index + " is not running"));
        FlinkRestClient rest = rest();
        boolean registered = FlinkRestClient.pollUntil(startupTimeout, Duration.ofMillis(200), () -> {
            if (rest.taskManagers().stream().anyMatch(tm -> id.equals(tm.path("id").asText()))) {
                return true;
            }
            if (taskManager(index).isEmpty()) {
                throw new IllegalStateException("taskmanager-" + index + " exited. Its log:\n" + tail(TASK_MANAGER + index));
            }
            return false;
        });
        if (!registered) {
            throw new IllegalStateException("taskmanager-" + index + " (" + id + ") not registered after "
                    + startupTimeout.toSeconds() + " s. Its log:\n" + tail(TASK_MANAGER + index));
        }
    }

    /** Waits until at least {@code count} TaskManagers are registered with the JobManager. */
    public void awaitTaskManagers(int count) {
        FlinkRestClient rest = rest();
        AtomicInteger registered = new AtomicInteger(-1);
        boolean enough = FlinkRestClient.pollUntil(startupTimeout, Duration.ofMillis(200), () -> {
            registered.set(-1);
            try {
                registered.set(rest.overview().path("taskmanagers").asInt());
            } catch (RuntimeException e) {
                // JobManager not answering yet
            }
            if (registered.get() >= count) {
                return true;
            }
            for (ProcessInfo p : liveOrDeadTaskManagers()) {
                if (!p.alive()) {
                    throw new IllegalStateException(p.name() + " exited during startup. Its log (" + logFile(p.name())
                            + "):\n" + tail(p.name()));
                }
            }
            return false;
        });
        if (!enough) {
            throw new IllegalStateException(registered.get() + " of " + count + " TaskManagers registered after "
                    + startupTimeout.toSeconds() + " s. Log of taskmanager-1:\n" + tail(TASK_MANAGER + 1));
        }
    }

    /** Also starts a Flink SQL gateway (flink-sql-gateway) on {@code sql-gateway.endpoint.rest.port} (8083 by default). */
    public synchronized void startSqlGateway() {
        if (live(SQL_GATEWAY).isPresent()) {
            return;
        }
        List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
        jvm.addAll(config().javaOpts("sql-gateway"));
        launch(SQL_GATEWAY, jvm, SQL_GATEWAY_MAIN, List.of(),
                Map.of("FLINK_CONF_DIR", confDirectory().toString()));
        int port = config().getInt("sql-gateway.endpoint.rest.port", 8083);
        boolean listening = FlinkRestClient.pollUntil(startupTimeout, Duration.ofMillis(200), () -> {
            if (Ports.accepts(port)) {
                return true;
            }
            if (live(SQL_GATEWAY).isEmpty()) {
                throw new IllegalStateException("The SQL gateway exited during startup. Its log:\n" + tail(SQL_GATEWAY));
            }
            return false;
        });
        if (!listening) {
            throw new IllegalStateException("The SQL gateway does not listen on " + port + " after "
                    + startupTimeout.toSeconds() + " s. Its log:\n" + tail(SQL_GATEWAY));
        }
    }

    // --------------------------------------------------------------------------------------------------- stop, chaos

    /** What {@link #stop()} did. */
    public record StopReport(List<String> stopped, List<String> killed, List<Path> cleaned) {}

    /**
     * Stops every process of this cluster by PID: SIGTERM (TaskManagers first, then the SQL gateway and the
     * JobManager), SIGKILL for whatever is still alive after the stop timeout; then deletes the pid files and the
     * contents of io.tmp.dirs. Checkpoints, savepoints and logs are kept.
     */
    public synchronized StopReport stop() {
        List<String> stopped = new ArrayList<>();
        List<String> killed = new ArrayList<>();
        List<ProcessInfo> processes = liveProcesses();
        processes.sort(Comparator.comparing((ProcessInfo p) -> p.name().equals(JOB_MANAGER)));
        for (ProcessInfo p : processes) {
            p.handle().destroy();
        }
        Instant deadline = Instant.now().plus(stopTimeout);
        for (ProcessInfo p : processes) {
            long remaining = Math.max(0, Duration.between(Instant.now(), deadline).toMillis());
            if (waitForExit(p.handle(), Duration.ofMillis(remaining))) {
                stopped.add(p.name() + " (pid " + p.pid() + ")");
            } else {
                kill(p.handle());
                killed.add(p.name() + " (pid " + p.pid() + ")");
            }
        }
        deletePidFiles();
        List<Path> cleaned = cleanTmpDirs();
        return new StopReport(stopped, killed, cleaned);
    }

    /** {@code kill -9} of TaskManager {@code index}; waits until the process is gone. */
    public synchronized void killTaskManager(int index) {
        ProcessHandle tm = taskManager(index).orElseThrow(() ->
                new IllegalStateException("TaskManager " + index + " is not running"));
        kill(tm);
        deleteQuietly(pidFile(TASK_MANAGER + index));
    }

    /** Graceful stop (SIGTERM) of TaskManager {@code index}. */
    public synchronized void stopTaskManager(int index) {
        ProcessHandle tm = taskManager(index).orElseThrow(() ->
                new IllegalStateException("TaskManager " + index + " is not running"));
        tm.destroy();
        if (!waitForExit(tm, stopTimeout)) {
            kill(tm);
        }
        deleteQuietly(pidFile(TASK_MANAGER + index));
    }

    /** {@code kill -9} of the JobManager; waits until the process is gone. Without HA its jobs are lost with it. */
    public synchronized void killJobManager() {
        ProcessHandle jm = jobManager().orElseThrow(() -> new IllegalStateException("The JobManager is not running"));
        kill(jm);
        deleteQuietly(pidFile(JOB_MANAGER));
    }

    // --------------------------------------------------------------------------------------------------- processes

    /** A process of the cluster as its pid file records it. */
    public record ProcessInfo(String name, long pid, ProcessHandle handle, boolean alive) {}

    /** Every process whose pid file names a live process of this cluster. */
    public List<ProcessInfo> liveProcesses() {
        return allProcesses().stream().filter(ProcessInfo::alive).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    }

    /** Every pid file, with whether its process is alive. */
    public List<ProcessInfo> allProcesses() {
        List<ProcessInfo> out = new ArrayList<>();
        if (!Files.isDirectory(pidDirectory())) {
            return out;
        }
        try (Stream<Path> files = Files.list(pidDirectory())) {
            for (Path f : files.filter(f -> f.toString().endsWith(".pid")).sorted().toList()) {
                String name = f.getFileName().toString().replace(".pid", "");
                readPid(f).ifPresent(pid -> {
                    Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(this::belongsToThisCluster);
                    out.add(new ProcessInfo(name, pid, h.orElse(null), h.isPresent()));
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private List<ProcessInfo> liveOrDeadTaskManagers() {
        return allProcesses().stream().filter(p -> p.name().startsWith(TASK_MANAGER)).toList();
    }

    public Optional<ProcessHandle> jobManager() {
        return live(JOB_MANAGER);
    }

    public Optional<ProcessHandle> taskManager(int index) {
        return live(TASK_MANAGER + index);
    }

    /** The numbers of the TaskManagers whose processes are alive. */
    public List<Integer> taskManagerIndexes() {
        return liveProcesses().stream().map(ProcessInfo::name).filter(n -> n.startsWith(TASK_MANAGER))
                .map(n -> Integer.parseInt(n.substring(TASK_MANAGER.length()))).sorted().toList();
    }

    public boolean isRunning() {
        return jobManager().isPresent();
    }

    private Optional<ProcessHandle> live(String process) {
        return readPid(pidFile(process)).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive)
                .filter(this::belongsToThisCluster);
    }

    /** Guards against a recycled pid: the process must have been started with this cluster's conf directory. */
    private boolean belongsToThisCluster(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        Optional<String> commandLine = h.info().commandLine();
        Optional<String[]> arguments = h.info().arguments();
        String text = commandLine.orElse(arguments.map(a -> String.join(" ", a)).orElse(null));
        return text == null || text.contains(confDirectory().toString());
    }

    private static Optional<Long> readPid(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Long.parseLong(Files.readString(file).strip())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private Process launch(String name, List<String> jvmFlags, String mainClass, List<String> args, Map<String, String> env) {
        List<String> command = new ArrayList<>();
        command.add(FlinkRuntime.javaBinary());
        command.addAll(jvmFlags);
        Path log4j = confDirectory().resolve("log4j.properties");
        command.add("-Dlog.file=" + logFile(name));
        command.add("-Dlog4j.configuration=file:" + log4j);
        command.add("-Dlog4j.configurationFile=file:" + log4j);
        command.add("-Dhorizons.cluster.process=" + name);
        command.add("@" + confDirectory().resolve("classpath.args"));
        if (dieWithParent) {
            command.add(ParentWatch.class.getName());
            command.add(Long.toString(ProcessHandle.current().pid()));
        }
        command.add(mainClass);
        command.addAll(args);
        // Like Flink's scripts: stdout and stderr go to the .out file next to the log, which the Web UI shows too.
        Path out = logDirectory().resolve(name + ".out");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(runDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
        builder.environment().put("FLINK_CONF_DIR", confDirectory().toString());
        builder.environment().putAll(env);
        try {
            Process p = builder.start();
            Files.writeString(pidFile(name), Long.toString(p.pid()));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start " + name + ": " + command, e);
        }
    }

    private void awaitRest(Process jobManager) {
        FlinkRestClient rest = rest();
        boolean up = FlinkRestClient.pollUntil(startupTimeout, Duration.ofMillis(200), () -> {
            if (rest.isUp()) {
                return true;
            }
            if (!jobManager.isAlive()) {
                throw new IllegalStateException("The JobManager exited during startup (exit code " + jobManager.exitValue()
                        + "). Its log (" + logFile(JOB_MANAGER) + "):\n" + tail(JOB_MANAGER));
            }
            return false;
        });
        if (!up) {
            throw new IllegalStateException("The JobManager's REST API at " + rest.baseUrl() + " does not answer after "
                    + startupTimeout.toSeconds() + " s. Its log:\n" + tail(JOB_MANAGER));
        }
    }

    /**
     * Runs {@code BashJavaUtils GET_JM_RESOURCE_PARAMS|GET_TM_RESOURCE_PARAMS --configDir conf}, as Flink's scripts do:
     * line 1 of its result is the JVM memory flags (-Xmx, -Xms, -XX:MaxDirectMemorySize, -XX:MaxMetaspaceSize), line 2
     * the matching {@code -D key=value} settings for the process.
     */
    List<String> bashJavaUtils(String command) {
        List<String> cmd = new ArrayList<>(List.of(FlinkRuntime.javaBinary(), "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-Dlog.file=" + logDirectory().resolve("bash-java-utils-" + command.toLowerCase(java.util.Locale.ROOT) + ".log"),
                "-Dlog4j.configurationFile=file:" + confDirectory().resolve("log4j.properties"),
                "@" + confDirectory().resolve("classpath.args"), BASH_JAVA_UTILS, command,
                "--configDir", confDirectory().toString()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("BashJavaUtils " + command + " failed (check the memory settings in "
                        + configSource.resolve("config.yaml") + "):\n" + output);
            }
            List<String> results = output.lines().filter(l -> l.startsWith(EXEC_RESULT_PREFIX))
                    .map(l -> l.substring(EXEC_RESULT_PREFIX.length()).strip()).toList();
            if (results.isEmpty()) {
                throw new IllegalStateException("BashJavaUtils " + command + " printed no result:\n" + output);
            }
            return results;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run BashJavaUtils", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }

    private static List<String> split(String line) {
        return Arrays.stream(line.strip().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** The last 40 lines of a process's log and .out file. */
    public String tail(String process) {
        StringBuilder sb = new StringBuilder();
        for (Path f : List.of(logFile(process), logDirectory().resolve(process + ".out"))) {
            if (Files.isRegularFile(f)) {
                try {
                    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                    sb.append("--- ").append(f).append('\n');
                    lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> sb.append(l).append('\n'));
                } catch (IOException | UncheckedIOException e) {
                    sb.append("(cannot read ").append(f).append(")\n");
                }
            }
        }
        return sb.toString();
    }

    private static void kill(ProcessHandle h) {
        h.destroyForcibly();
        if (!waitForExit(h, Duration.ofSeconds(30))) {
            throw new IllegalStateException("Process " + h.pid() + " survived SIGKILL for 30 s");
        }
    }

    private static boolean waitForExit(ProcessHandle h, Duration timeout) {
        try {
            h.onExit().get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !h.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            return !h.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !h.isAlive();
        }
    }

    private void deletePidFiles() {
        if (Files.isDirectory(pidDirectory())) {
            try (Stream<Path> files = Files.list(pidDirectory())) {
                files.forEach(LocalCluster::deleteQuietly);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Deletes the contents of io.tmp.dirs (spill files, RocksDB working dirs, uploaded jars, blobs). */
    private List<Path> cleanTmpDirs() {
        List<Path> cleaned = new ArrayList<>();
        ClusterConfig config = config();
        List<Path> dirs = new ArrayList<>(config.tmpDirs());
        String upload = config.get("web.upload.dir");
        if (upload != null) {
            dirs.add(Path.of(upload));
        }
        for (Path dir : dirs) {
            if (!dir.startsWith(runDir) && !dir.startsWith(home)) {
                // Never empty a shared folder such as /tmp; only the cluster's own.
                continue;
            }
            if (Files.isDirectory(dir)) {
                try (Stream<Path> children = Files.list(dir)) {
                    children.forEach(LocalCluster::deleteRecursively);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                cleaned.add(dir);
            }
        }
        return cleaned;
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(LocalCluster::deleteQuietly);
        } catch (IOException | UncheckedIOException e) {
            // best effort: a file that vanished while walking
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // best effort
        }
    }

    private FlinkRuntime runtime() {
        if (runtime == null) {
            runtime = FlinkRuntime.locate(home);
        }
        return runtime;
    }

    /** Where {@link ParentWatch} is loaded from (a classes folder or this module's jar). */
    private static String ownCodeSource() {
        try {
            URI location = ParentWatch.class.getProtectionDomain().getCodeSource().getLocation().toURI();
            return Path.of(location).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds a {@link LocalCluster}. */
    public static final class Builder {
        private Path home = FlinkRuntime.home();
        private Path runDir;
        private Path configSource;
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private boolean dieWithParent;
        private Duration startupTimeout = Duration.ofSeconds(90);
        private Duration stopTimeout = Duration.ofSeconds(30);
        private FlinkRuntime runtime;

        /** The project folder: flink-conf/ and relative paths of the configuration are resolved against it. */
        public Builder home(Path home) {
            this.home = home;
            return this;
        }

        /** Where pids, logs and the effective configuration go (default {@code <home>/.horizons/cluster}). */
        public Builder runDirectory(Path runDir) {
            this.runDir = runDir;
            return this;
        }

        /** The folder with config.yaml and log4j.properties (default {@code <home>/flink-conf}). */
        public Builder configSource(Path dir) {
            this.configSource = dir;
            return this;
        }

        /** A Flink setting that wins over config.yaml, e.g. {@code heartbeat.timeout}. */
        public Builder set(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /**
         * Puts io.tmp.dirs, the upload folder, checkpoints and savepoints under the run directory and lets the OS
         * choose every port: a cluster that can run next to another one (tests).
         */
        public Builder isolated() {
            set("io.tmp.dirs", "${run}/tmp");
            set("web.upload.dir", "${run}/tmp/web-upload");
            set("state.backend.rocksdb.log.dir", "${run}/log/rocksdb");
            set("execution.checkpointing.dir", "${run}/checkpoints");
            set("execution.checkpointing.savepoint-dir", "${run}/savepoints");
            set(ClusterConfig.REST_PORT, String.valueOf(Ports.freePort()));
            set("jobmanager.rpc.port", String.valueOf(Ports.freePort()));
            set("blob.server.port", String.valueOf(Ports.freePort()));
            set("taskmanager.rpc.port", "0");
            set(ClusterConfig.TM_DATA_PORT, "0");
            set("metrics.internal.query-service.port", "0");
            set("metrics.reporter.prom.port", Ports.freePort() + "," + Ports.freePort() + "," + Ports.freePort() + ","
                    + Ports.freePort());
            set("sql-gateway.endpoint.rest.port", String.valueOf(Ports.freePort()));
            return this;
        }

        /** Cluster processes exit when this JVM is gone, even after {@code kill -9} (tests). */
        public Builder dieWithParent(boolean dieWithParent) {
            this.dieWithParent = dieWithParent;
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        public Builder runtime(FlinkRuntime runtime) {
            this.runtime = runtime;
            return this;
        }

        public LocalCluster build() {
            Path run = (runDir != null ? runDir : home.resolve(".horizons/cluster")).toAbsolutePath().normalize();
            overrides.replaceAll((k, v) -> v == null ? null : v.replace("${run}", run.toString()));
            this.runDir = run;
            return new LocalCluster(this);
        }
    }
}
