package io.cosmichorizons.slurm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses {@code squeue --json}. Written against Slurm 22.05 (OpenAPI v0.0.38: plain numbers, {@code job_state} a
 * string, {@code exit_code} a raw wait status) and tolerant of the later data_parser layout (numbers as
 * {@code {"set":true,"infinite":false,"number":N}}, {@code job_state} a list, {@code exit_code} an object).
 *
 * <p>A pending array job is one row whose {@code array_task_string} (e.g. {@code 2-5%2}) names the tasks that have not
 * started; it becomes one observation per task, so every task has its own lifecycle from submission on.
 */
public final class SqueueJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Slurm's NO_VAL and INFINITE markers as they leak into v0.0.38 numbers. */
    private static final long NO_VAL = 0xfffffffeL;
    private static final Pattern TRES_MEM = Pattern.compile("(?:^|,)mem=([0-9.]+)([KMGTP]?)");
    private static final Pattern TRES_CPU = Pattern.compile("(?:^|,)cpu=([0-9]+)");
    /** Expanding an array beyond this many pending tasks would only flood the topic with placeholders. */
    static final int MAX_EXPANDED_TASKS = 100_000;

    private SqueueJson() {}

    /** Every job in the output, array meta rows expanded into their tasks, with queue positions set. */
    public static List<SlurmJob> parse(String json) throws IOException {
        JsonNode root = MAPPER.readTree(json);
        JsonNode errors = root.path("errors");
        if (errors.isArray() && !errors.isEmpty()) {
            JsonNode first = errors.get(0);
            throw new IOException("squeue answered with an error: " + first.path("description").asText(
                    first.path("error").asText(first.toString())) + " (" + first.path("source").asText("squeue") + ")");
        }
        JsonNode jobs = root.get("jobs");
        if (jobs == null || !jobs.isArray()) {
            throw new IOException("squeue --json output has no \"jobs\" array");
        }
        List<SlurmJob> out = new ArrayList<>();
        List<Long> priorities = new ArrayList<>();
        for (JsonNode job : jobs) {
            addJob(job, out, priorities);
        }
        return withQueuePositions(out, priorities);
    }

    private static void addJob(JsonNode j, List<SlurmJob> out, List<Long> priorities) {
        long jobId = number(j.get("job_id"), 0);
        long arrayJobId = number(j.get("array_job_id"), 0);
        Long taskId = optionalNumber(j.get("array_task_id"));
        String taskString = text(j.get("array_task_string"));
        String submission = Long.toString(arrayJobId > 0 ? arrayJobId : jobId);
        SlurmState state = state(j.get("job_state"));
        long submit = number(j.get("submit_time"), 0);
        long start = number(j.get("start_time"), 0);
        long end = number(j.get("end_time"), 0);
        String nodes = text(j.get("nodes"));
        // Pending jobs carry the scheduler's *expected* start; only a job that got nodes has really started.
        boolean ran = state.impliesRan() || (nodes != null && !nodes.isBlank() && start > 0);
        if (state.phase() == SlurmState.Phase.QUEUED || !ran) {
            start = ran ? start : 0;
        }
        if (state.phase() != SlurmState.Phase.ENDED) {
            end = 0; // a running job's end_time is its expected end
        }
        int[] exit = exitCode(j.get("exit_code"));
        String tres = text(j.get("tres_req_str"));
        int cpus = (int) number(j.get("cpus"), 0);
        if (cpus <= 0) {
            cpus = tresCpus(tres);
        }
        String reason = text(j.get("state_reason"));
        String user = text(j.get("user_name"));
        if (user == null) {
            user = Long.toString(number(j.get("user_id"), 0));
        }
        String name = text(j.get("name"));
        String partition = text(j.get("partition"));
        String comment = text(j.get("comment"));
        int nodeCount = (int) number(j.get("node_count"), 0);
        long memory = memoryBytes(j, tres, cpus);
        Long timeLimit = optionalNumber(j.get("time_limit"));
        if (timeLimit != null && (timeLimit == Long.MAX_VALUE || timeLimit >= NO_VAL)) {
            timeLimit = null;
        }
        int restarts = (int) number(j.get("restart_cnt"), 0);
        String cwd = text(j.get("current_working_directory"));
        String stdout = text(j.get("standard_output"));
        long priority = number(j.get("priority"), 0);

        List<String> keys = new ArrayList<>();
        if (arrayJobId > 0 && taskId != null && taskId < NO_VAL) {
            keys.add(arrayJobId + "_" + taskId);
        } else if (arrayJobId > 0 && taskString != null && !taskString.isBlank()) {
            for (long task : expandTasks(taskString)) {
                keys.add(arrayJobId + "_" + task);
            }
        } else {
            keys.add(Long.toString(jobId));
        }
        for (String key : keys) {
            String output = outputRef(stdout, cwd, key, jobId, arrayJobId, name, user);
            out.add(new SlurmJob(key, submission, user, name, partition, comment, state, reason, submit, start, end, ran,
                    nodeCount, cpus, memory, timeLimit, exit[0], exit[1], restarts, 0, output, SlurmJob.Source.SQUEUE));
            priorities.add(priority);
        }
    }

    /** Ranks pending jobs per partition by priority (highest first), then by submit time: the scheduler's order. */
    private static List<SlurmJob> withQueuePositions(List<SlurmJob> jobs, List<Long> priorities) {
        Map<String, List<Integer>> pendingByPartition = new HashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            if (jobs.get(i).state().phase() == SlurmState.Phase.QUEUED) {
                pendingByPartition.computeIfAbsent(String.valueOf(jobs.get(i).partition()), p -> new ArrayList<>()).add(i);
            }
        }
        List<SlurmJob> out = new ArrayList<>(jobs);
        for (List<Integer> indexes : pendingByPartition.values()) {
            indexes.sort(Comparator.<Integer>comparingLong(i -> -priorities.get(i))
                    .thenComparingLong(i -> jobs.get(i).submitTime())
                    .thenComparing(i -> jobs.get(i).key()));
            for (int rank = 0; rank < indexes.size(); rank++) {
                out.set(indexes.get(rank), jobs.get(indexes.get(rank)).withQueuePosition(rank));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ fields

    static SlurmState state(JsonNode node) {
        if (node == null || node.isNull()) {
            return SlurmState.UNKNOWN;
        }
        if (node.isArray()) {
            List<String> names = new ArrayList<>();
            node.forEach(n -> names.add(n.asText()));
            return SlurmState.parse(names);
        }
        return SlurmState.parse(node.asText());
    }

    /**
     * {exit status, signal}. v0.0.38 gives the raw wait status (exit 3 is 768, SIGTERM is 15); later versions an
     * object with {@code return_code} and {@code signal.id}. {-1, 0} when absent.
     */
    static int[] exitCode(JsonNode node) {
        if (node == null || node.isNull()) {
            return new int[] {-1, 0};
        }
        if (node.isObject()) {
            long code = number(node.get("return_code"), -1);
            long signal = number(node.path("signal").get("id"), 0);
            return new int[] {(int) code, (int) Math.max(0, signal)};
        }
        long status = number(node, -1);
        if (status < 0) {
            return new int[] {-1, 0};
        }
        int signal = (int) (status & 0x7f);
        return signal != 0 ? new int[] {0, signal} : new int[] {(int) ((status >> 8) & 0xff), 0};
    }

    private static long memoryBytes(JsonNode j, String tres, int cpus) {
        if (tres != null) {
            Matcher m = TRES_MEM.matcher(tres);
            if (m.find()) {
                return scale(Double.parseDouble(m.group(1)), m.group(2));
            }
        }
        long perNode = number(j.get("memory_per_node"), 0);
        if (perNode > 0 && perNode < NO_VAL) {
            return perNode * 1024 * 1024;
        }
        long perCpu = number(j.get("memory_per_cpu"), 0);
        if (perCpu > 0 && perCpu < NO_VAL) {
            return perCpu * Math.max(1, cpus) * 1024 * 1024;
        }
        return 0;
    }

    /** Slurm memory sizes: a number with an optional K/M/G/T/P suffix, megabytes without one. */
    static long scale(double value, String unit) {
        double bytes = switch (unit == null ? "" : unit.toUpperCase(Locale.ROOT)) {
            case "K" -> value * 1024;
            case "G" -> value * 1024 * 1024 * 1024;
            case "T" -> value * 1024L * 1024 * 1024 * 1024;
            case "P" -> value * 1024L * 1024 * 1024 * 1024 * 1024;
            default -> value * 1024 * 1024;
        };
        return (long) bytes;
    }

    private static int tresCpus(String tres) {
        if (tres != null) {
            Matcher m = TRES_CPU.matcher(tres);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return 0;
    }

    /**
     * Where the job's output goes: its StdOut with Slurm's filename patterns filled in, or Slurm's default
     * {@code slurm-%j.out} ({@code slurm-%A_%a.out} for arrays) in its working directory.
     */
    static String outputRef(String stdout, String cwd, String key, long jobId, long arrayJobId, String name, String user) {
        String pattern = stdout;
        if (pattern == null || pattern.isBlank()) {
            if (cwd == null || cwd.isBlank()) {
                return null;
            }
            pattern = cwd + "/" + (arrayJobId > 0 ? "slurm-%A_%a.out" : "slurm-%j.out");
        } else if (!pattern.startsWith("/") && cwd != null && !cwd.isBlank()) {
            pattern = cwd + "/" + pattern;
        }
        String task = key.contains("_") ? key.substring(key.indexOf('_') + 1) : "4294967294";
        return pattern.replace("%A", Long.toString(arrayJobId > 0 ? arrayJobId : jobId))
                .replace("%a", task)
                .replace("%j", Long.toString(jobId))
                .replace("%x", name == null ? "" : name)
                .replace("%u", user == null ? "" : user);
    }

    /** The task ids of an array task string such as {@code 2-5%2}, {@code 1,3,7-9} or {@code 0-15:4}. */
    static List<Long> expandTasks(String taskString) {
        String spec = taskString.strip();
        int throttle = spec.indexOf('%');
        if (throttle >= 0) {
            spec = spec.substring(0, throttle);
        }
        spec = spec.replace("[", "").replace("]", "");
        List<Long> tasks = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            long step = 1;
            int colon = part.indexOf(':');
            if (colon >= 0) {
                step = Math.max(1, Long.parseLong(part.substring(colon + 1).strip()));
                part = part.substring(0, colon);
            }
            int dash = part.indexOf('-');
            long from = Long.parseLong((dash >= 0 ? part.substring(0, dash) : part).strip());
            long to = dash >= 0 ? Long.parseLong(part.substring(dash + 1).strip()) : from;
            for (long t = from; t <= to && tasks.size() < MAX_EXPANDED_TASKS; t += step) {
                tasks.add(t);
            }
        }
        return tasks;
    }

    /** A plain number, or the later {@code {"set":..,"infinite":..,"number":..}} form; {@code dflt} when unset. */
    static long number(JsonNode node, long dflt) {
        Long n = optionalNumber(node);
        return n == null ? dflt : n;
    }

    /** As {@link #number}, with null for unset and {@link Long#MAX_VALUE} for infinite. */
    static Long optionalNumber(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            if (node.has("set") && !node.get("set").asBoolean()) {
                return null;
            }
            if (node.path("infinite").asBoolean(false)) {
                return Long.MAX_VALUE;
            }
            return optionalNumber(node.get("number"));
        }
        if (node.isNumber()) {
            return node.asLong();
        }
        if (node.isTextual()) {
            try {
                return Long.parseLong(node.asText().strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    static String text(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        String s = node.asText();
        return s.isEmpty() ? null : s;
    }
}
