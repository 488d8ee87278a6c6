package io.cosmichorizons.slurm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The spool file the hook scripts in {@code deploy/slurm/hooks} append to: one JSON object per line, written by
 * PrologSlurmctld ({@code "hook":"prolog"}), EpilogSlurmctld ({@code "epilog"}) and jobcomp/script
 * ({@code "jobcomp"}). The bridge reads complete lines from a remembered offset, so nothing is read twice and a line
 * still being written is left for the next read. A rotated (new file) or truncated spool is read from its start.
 */
public final class HookSpool {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** ARRAYTASKID of a job that is not an array task (NO_VAL - 1). */
    private static final String NOT_AN_ARRAY_TASK = "4294967294";
    private static final int MAX_BATCH_BYTES = 8 * 1024 * 1024;

    private final Path path;

    public HookSpool(Path path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    public Path path() {
        return path;
    }

    /** Where reading stands: the file's identity (inode) and the offset after the last complete line read. */
    public record Position(String fileKey, long offset) {
        public static final Position START = new Position(null, 0);
    }

    /**
     * What a read returned: the records, where to continue, and the lines that were not valid records (skipped, with
     * their text for the log).
     */
    public record Batch(List<SlurmJob> records, Position next, List<String> malformed, boolean restarted) {}

    /** The position at the current end of the file: where a bridge without history starts. */
    public Position end() throws IOException {
        if (!Files.exists(path)) {
            return Position.START;
        }
        return new Position(fileKey(), Files.size(path));
    }

    /** Reads the complete lines after {@code from}. A missing file reads as empty. */
    public Batch read(Position from) throws IOException {
        if (!Files.exists(path)) {
            return new Batch(List.of(), from, List.of(), false);
        }
        String key = fileKey();
        long size = Files.size(path);
        boolean restarted = false;
        long offset = from.offset();
        if ((from.fileKey() != null && !from.fileKey().equals(key)) || size < offset) {
            offset = 0; // rotated or truncated: the current file is all new
            restarted = true;
        }
        if (size == offset) {
            return new Batch(List.of(), new Position(key, offset), List.of(), restarted);
        }
        byte[] bytes;
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
            file.seek(offset);
            bytes = new byte[(int) Math.min(size - offset, MAX_BATCH_BYTES)];
            file.readFully(bytes);
        }
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--; // a partial last line: leave it for the next read
        }
        List<SlurmJob> records = new ArrayList<>();
        List<String> malformed = new ArrayList<>();
        String text = new String(bytes, 0, end, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                SlurmJob record = parse(line);
                if (record != null) {
                    records.add(record);
                }
            } catch (IOException | RuntimeException e) {
                malformed.add(line.length() > 300 ? line.substring(0, 300) + "..." : line);
            }
        }
        return new Batch(records, new Position(key, offset + end), malformed, restarted);
    }

    private String fileKey() throws IOException {
        Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        return key == null ? null : key.toString();
    }

    /**
     * One hook record as an observation of its job, or null for a record of an array's not-yet-started remainder
     * (jobcomp reports that as one job without a task id; squeue lists which tasks it held).
     */
    static SlurmJob parse(String line) throws IOException {
        JsonNode n = MAPPER.readTree(line);
        String hook = field(n, "hook");
        String jobId = field(n, "job_id");
        if (hook == null || jobId == null) {
            throw new IOException("not a hook record: " + line);
        }
        String arrayJobId = field(n, "array_job_id");
        String taskId = field(n, "array_task_id");
        boolean inArray = arrayJobId != null && !arrayJobId.equals("0");
        boolean arrayTask = inArray && taskId != null && !taskId.equals(NOT_AN_ARRAY_TASK);
        if (inArray && !arrayTask) {
            return null;
        }
        String key = arrayTask ? arrayJobId + "_" + taskId : jobId;
        String submission = arrayTask ? arrayJobId : jobId;
        long now = number(field(n, "time"), 0);
        String nodes = field(n, "nodes");
        int nodeCount = (int) number(field(n, "node_count"), 0);
        int[] exit = exitCode(field(n, "exit_code"));
        String workDir = field(n, "work_dir");
        String stdout = field(n, "stdout");
        String name = field(n, "name");
        String user = field(n, "user");
        String output = SqueueJson.outputRef(stdout, workDir, key, number(jobId, 0),
                arrayTask ? number(arrayJobId, 0) : 0, name, user);
        SlurmJob.Source source;
        SlurmState state;
        long submit = 0;
        long start = 0;
        long end = 0;
        boolean ran;
        switch (hook) {
            case "prolog" -> {
                source = SlurmJob.Source.PROLOG;
                state = SlurmState.RUNNING;
                start = now;
                ran = true;
            }
            case "epilog" -> {
                // The epilog knows that the job ended and how, not the state Slurm gives it.
                source = SlurmJob.Source.EPILOG;
                state = SlurmState.COMPLETING;
                end = now;
                ran = nodes != null || nodeCount > 0;
            }
            case "jobcomp" -> {
                source = SlurmJob.Source.JOBCOMP;
                state = SlurmState.parse(field(n, "state"));
                submit = number(field(n, "submit"), 0);
                start = number(field(n, "start"), 0);
                end = number(field(n, "end"), 0);
                ran = state.impliesRan() || (nodes != null && nodeCount > 0);
                if (!ran) {
                    start = 0; // Slurm sets the start of a job cancelled while pending to its end
                }
            }
            default -> throw new IOException("unknown hook '" + hook + "'");
        }
        return new SlurmJob(key, submission, user, name, field(n, "partition"), field(n, "comment"), state,
                field(n, "reason"), submit, start, end, ran, nodeCount, (int) number(field(n, "cpus"), 0), 0,
                timeLimitMinutes(field(n, "limit")), exit[0], exit[1], (int) number(field(n, "restarts"), 0), 0, output,
                source);
    }

    /** Slurm's {@code exit:signal} notation; {-1, 0} when absent. */
    static int[] exitCode(String text) {
        if (text == null) {
            return new int[] {-1, 0};
        }
        String[] parts = text.split(":", 2);
        long code = number(parts[0], -1);
        long signal = parts.length > 1 ? number(parts[1], 0) : 0;
        return new int[] {(int) code, (int) signal};
    }

    /** A Slurm time limit ({@code UNLIMITED}, {@code D-HH:MM:SS}, {@code HH:MM:SS}, {@code MM:SS}, or minutes). */
    static Long timeLimitMinutes(String limit) {
        if (limit == null || limit.isBlank() || limit.equalsIgnoreCase("UNLIMITED") || limit.equalsIgnoreCase("INFINITE")
                || limit.equalsIgnoreCase("NOT_SET") || limit.equalsIgnoreCase("Partition_Limit")) {
            return null;
        }
        try {
            long days = 0;
            String rest = limit.strip();
            int dash = rest.indexOf('-');
            if (dash >= 0) {
                days = Long.parseLong(rest.substring(0, dash));
                rest = rest.substring(dash + 1);
            }
            String[] hms = rest.split(":");
            long seconds;
            if (dash >= 0) { // D-HH[:MM[:SS]]
                seconds = Long.parseLong(hms[0]) * 3600 + (hms.length > 1 ? Long.parseLong(hms[1]) * 60 : 0)
                        + (hms.length > 2 ? Long.parseLong(hms[2]) : 0);
            } else if (hms.length == 3) {
                seconds = Long.parseLong(hms[0]) * 3600 + Long.parseLong(hms[1]) * 60 + Long.parseLong(hms[2]);
            } else if (hms.length == 2) {
                seconds = Long.parseLong(hms[0]) * 60 + Long.parseLong(hms[1]);
            } else {
                seconds = Long.parseLong(hms[0]) * 60;
            }
            return (days * 86400 + seconds + 59) / 60;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String field(JsonNode n, String name) {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        String s = v.asText().strip();
        return s.isEmpty() ? null : s;
    }

    private static long number(String s, long dflt) {
        if (s == null) {
            return dflt;
        }
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
