package io.cosmichorizons.pipeline.slurm;

import io.cosmichorizons.slurm.SlurmBridgeMain;
import io.cosmichorizons.testbed.ChildMain;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The bridge as its own process ({@link SlurmBridgeMain} in a child JVM with this test's classpath), so the test can
 * kill it with SIGKILL the way an operator's crash would. It exits by itself when the test JVM dies.
 */
final class BridgeProcess implements AutoCloseable {
    final Path log;
    private final Process process;

    private BridgeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static BridgeProcess start(Path dir, String name, Map<String, String> env, List<String> args) throws IOException {
        Path log4j = dir.resolve("bridge-log4j2.properties");
        Files.writeString(log4j, String.join("\n",
                "status = error",
                "appender.out.type = Console",
                "appender.out.name = out",
                "appender.out.layout.type = PatternLayout",
                "appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1}: %m%n",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.out.ref = out",
                "logger.bridge.name = io.cosmichorizons.slurm",
                "logger.bridge.level = debug",
                ""), StandardCharsets.UTF_8);
        Path argFile = dir.resolve("bridge-classpath.args");
        String classpath = System.getProperty("java.class.path");
        List<String> absolute = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                absolute.add(Path.of(entry).toAbsolutePath().toString());
            }
        }
        Files.writeString(argFile, "-cp\n\"" + String.join(File.pathSeparator, absolute).replace("\\", "\\\\") + "\"\n",
                StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dlog4j.configurationFile=" + log4j.toUri(),
                "@" + argFile,
                ChildMain.class.getName(), Long.toString(ProcessHandle.current().pid()),
                SlurmBridgeMain.class.getName()));
        command.addAll(args);
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        return new BridgeProcess(pb.start(), log);
    }

    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hooks, no flush, no last state write. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the bridge finishes its cycle and exits. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
