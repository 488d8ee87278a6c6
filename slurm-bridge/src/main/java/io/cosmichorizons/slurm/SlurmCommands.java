package io.cosmichorizons.slurm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Slurm} through the client commands on the PATH ({@code squeue}, {@code sacct}, {@code getent}). They find
 * slurmctld the usual way: {@code SLURM_CONF}, else {@code /etc/slurm/slurm.conf} (or configless mode).
 */
public final class SlurmCommands implements Slurm {
    private static final Logger LOG = LoggerFactory.getLogger(SlurmCommands.class);

    private final List<String> squeue;
    private final String sacct;
    private final Duration timeout;
    private final Map<String, String> environment;
    /** Null until sacct was tried; then whether it works here (it needs slurmdbd). */
    private volatile Boolean accountingAvailable;
    private final Map<String, String> userNames = new ConcurrentHashMap<>();

    /**
     * @param squeue the squeue command (e.g. {@code squeue}, or {@code ssh head squeue}); {@code --json} is appended
     * @param sacct the sacct command, or null to never ask accounting who cancelled a job
     * @param timeout how long one command may take
     * @param environment extra environment for the commands (e.g. SLURM_CONF), may be empty
     */
    public SlurmCommands(List<String> squeue, String sacct, Duration timeout, Map<String, String> environment) {
        this.squeue = List.copyOf(squeue);
        this.sacct = sacct;
        this.timeout = timeout;
        this.environment = Map.copyOf(environment);
    }

    /** squeue and sacct from the PATH, 30 s per command. */
    public static SlurmCommands defaults() {
        return new SlurmCommands(List.of("squeue"), "sacct", Duration.ofSeconds(30), Map.of());
    }

    @Override
    public List<SlurmJob> queue() throws SlurmUnavailableException {
        List<String> command = new ArrayList<>(squeue);
        command.add("--json");
        Result r = run(command);
        if (r.exitCode != 0) {
            throw new SlurmUnavailableException("`" + String.join(" ", command) + "` exited with " + r.exitCode + ": "
                    + firstLine(r.stderr.isBlank() ? r.stdout : r.stderr));
        }
        try {
            return SqueueJson.parse(r.stdout);
        } catch (IOException e) {
            throw new SlurmUnavailableException("`" + String.join(" ", command) + "`: " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<String> cancelledBy(String jobKey) {
        if (sacct == null || Boolean.FALSE.equals(accountingAvailable)) {
            return Optional.empty();
        }
        try {
            Result r = run(List.of(sacct, "-n", "-P", "-X", "-o", "State", "-j", jobKey));
            if (r.exitCode != 0) {
                if (accountingAvailable == null) {
                    LOG.info("Slurm accounting is not available ({}); cancelled jobs are published with cancelled_by "
                            + "'unknown'", firstLine(r.stderr));
                    accountingAvailable = false;
                }
                return Optional.empty();
            }
            accountingAvailable = true;
            for (String line : r.stdout.split("\n")) {
                String s = line.strip();
                if (s.startsWith("CANCELLED by ")) {
                    return Optional.of(userName(s.substring("CANCELLED by ".length()).strip()));
                }
            }
            return Optional.empty();
        } catch (SlurmUnavailableException e) {
            if (accountingAvailable == null) {
                LOG.info("sacct cannot be run ({}); cancelled jobs are published with cancelled_by 'unknown'",
                        e.getMessage());
                accountingAvailable = false;
            }
            return Optional.empty();
        }
    }

    /** A uid as a user name when the system knows it, else the uid. */
    private String userName(String uid) {
        if (!uid.chars().allMatch(Character::isDigit)) {
            return uid;
        }
        return userNames.computeIfAbsent(uid, u -> {
            try {
                Result r = run(List.of("getent", "passwd", u));
                if (r.exitCode == 0 && r.stdout.contains(":")) {
                    return r.stdout.substring(0, r.stdout.indexOf(':'));
                }
            } catch (SlurmUnavailableException e) {
                // fall through to the uid
            }
            return "uid " + u;
        });
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private Result run(List<String> command) throws SlurmUnavailableException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(environment);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Path errors = null;
        Process p = null;
        try {
            errors = Files.createTempFile("slurm-bridge-", ".stderr");
            pb.redirectError(errors.toFile());
            p = pb.start();
            // stdout is drained on its own thread so a large squeue answer cannot fill the pipe while we wait.
            Process process = p;
            StringBuilder stdout = new StringBuilder();
            Thread reader = new Thread(() -> stdout.append(drain(process.getInputStream())), "slurm-command-output");
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new SlurmUnavailableException("`" + String.join(" ", command) + "` did not answer within " + timeout);
            }
            reader.join(timeout.toMillis());
            return new Result(p.exitValue(), stdout.toString(), Files.readString(errors, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlurmUnavailableException("interrupted while running `" + command.get(0) + "`", e);
        } catch (IOException e) {
            throw new SlurmUnavailableException("cannot run `" + command.get(0) + "`: " + e.getMessage(), e);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            if (errors != null) {
                try {
                    Files.deleteIfExists(errors);
                } catch (IOException ignored) {
                    // a leftover empty temp file is harmless
                }
            }
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
