package io.cosmichorizons.pipeline.slurm;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The machine's single-node Slurm, started (and installed when missing) by {@code deploy/slurm/local-slurm.sh}, and
 * the client commands the test drives it with.
 *
 * <p>When Slurm cannot be installed here (no apt-get, not root) the test is skipped with that reason, except under CI
 * (env {@code CI} set), where it fails: {@code .ci/run} installs Slurm, so a missing one is a broken build machine.
 * Public for the tests of other modules (the CLI's {@code demo --slurm}), through this module's test jar.
 */
public final class LocalSlurm {
    /** local-slurm.sh's exit code for "not installed and cannot be installed here". */
    private static final int CANNOT_INSTALL = 3;
    private static final Pattern KEY_VALUE = Pattern.compile("(\\S+?)=(\\S*)");

    final Path script;
    /** What a Slurm client needs (SLURM_CONF) and the hooks' spool (HORIZONS_SLURM_SPOOL). */
    public final Map<String, String> environment = new HashMap<>();
    public final Path spool;

    private LocalSlurm(Path script, Map<String, String> environment) {
        this.script = script;
        this.environment.putAll(environment);
        this.spool = Path.of(environment.get("HORIZONS_SLURM_SPOOL"));
    }

    /** Starts the local Slurm (a no-op when it runs), or skips/fails the test as described above. */
    public static LocalSlurm start() throws IOException, InterruptedException {
        Path script = findScript();
        Result started = run(List.of(script.toString(), "start"), Map.of(), Duration.ofMinutes(3));
        if (started.exitCode == CANNOT_INSTALL) {
            String why = "Slurm is not installed and cannot be installed on this machine: " + started.output.strip();
            if (System.getenv("CI") != null) {
                fail(why + "\nCI must provide Slurm (.ci/run runs deploy/slurm/local-slurm.sh start)");
            }
            Assumptions.abort(why + "\nThis test needs a real Slurm: run `deploy/slurm/local-slurm.sh start` as root.");
        }
        if (started.exitCode != 0) {
            fail("deploy/slurm/local-slurm.sh start failed (exit " + started.exitCode + "):\n" + started.output);
        }
        Result env = run(List.of(script.toString(), "env"), Map.of(), Duration.ofSeconds(10));
        Map<String, String> vars = new HashMap<>();
        for (String line : env.output.split("\n")) {
            Matcher m = Pattern.compile("export (\\w+)=(.*)").matcher(line.strip());
            if (m.matches()) {
                vars.put(m.group(1), m.group(2));
            }
        }
        return new LocalSlurm(script, vars);
    }

    private static Path findScript() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("deploy/slurm/local-slurm.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("deploy/slurm/local-slurm.sh not found above " + System.getProperty("user.dir"));
    }

    /** sbatch with {@code args}; returns the job id. */
    public String sbatch(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("sbatch", "--parsable", "--chdir=" + workDir,
                "--output=" + workDir.resolve("slurm-%j.out")));
        command.addAll(List.of(args));
        Result r = check(command);
        return r.output.strip().split(";")[0];
    }

    public void scancel(String jobId) throws IOException, InterruptedException {
        check(List.of("scancel", jobId));
    }

    /** Stops slurmctld only (slurmd and the running jobs stay): the bridge sees Slurm go away. */
    void stopController() throws IOException, InterruptedException {
        check(List.of("scontrol", "shutdown", "slurmctld"));
    }

    /** Starts whatever is not running (after {@link #stopController()}: slurmctld). */
    void restart() throws IOException, InterruptedException {
        Result r = run(List.of(script.toString(), "start"), Map.of(), Duration.ofMinutes(1));
        if (r.exitCode != 0) {
            fail("local-slurm.sh start failed: " + r.output);
        }
    }

    /** The job's state as squeue shows it (all states), or "" when squeue does not list it. */
    public String state(String jobId) throws IOException, InterruptedException {
        Result r = run(List.of("squeue", "-h", "-t", "all", "-j", jobId, "-o", "%T"), environment, Duration.ofSeconds(30));
        return r.exitCode == 0 ? r.output.strip() : "";
    }

    /** {@code scontrol show job -o ID}: Slurm's own record of the job, as key -> value. */
    public Map<String, String> showJob(String jobId) throws IOException, InterruptedException {
        Result r = check(List.of("scontrol", "show", "job", "-o", jobId));
        Map<String, String> fields = new HashMap<>();
        Matcher m = KEY_VALUE.matcher(r.output.strip());
        while (m.find()) {
            fields.putIfAbsent(m.group(1), m.group(2));
        }
        return fields;
    }

    /** A time field of {@link #showJob} (Slurm prints local time without a zone), or null for Unknown/None. */
    public static Instant time(Map<String, String> job, String field) {
        String value = job.get(field);
        if (value == null || !value.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d")) {
            return null;
        }
        return LocalDateTime.parse(value).atZone(ZoneId.systemDefault()).toInstant();
    }

    private Result check(List<String> command) throws IOException, InterruptedException {
        Result r = run(command, environment, Duration.ofSeconds(30));
        if (r.exitCode != 0) {
            throw new IllegalStateException("`" + String.join(" ", command) + "` failed (" + r.exitCode + "): " + r.output);
        }
        return r;
    }

    record Result(int exitCode, String output) {}

    static Result run(List<String> command, Map<String, String> env, Duration timeout)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("local-slurm", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("`" + String.join(" ", command) + "` did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
