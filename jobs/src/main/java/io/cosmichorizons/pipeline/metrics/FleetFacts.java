package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.internal.FleetEvent;
import io.cosmichorizons.pipeline.lifecycle.Transitions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one job contributes to the fleet statistics, derived from its status: a submission, a stay in the queue, a
 * run, an end. When the status changes, the difference between the old and the new contribution goes out as signed
 * {@link FleetEvent}s, once for the job's HPC system and once for its user. So a late earlier step (RUNNING that
 * arrives after CANCELLED) corrects the counts and the queue depth instead of counting the job twice.
 */
public final class FleetFacts {
    public static final String SYSTEM = "system";
    public static final String USER = "user";

    private static final int SUBMITTED = 0;
    private static final int STARTED = 1;
    private static final int COMPLETED = 2;
    private static final int FAILED = 3;
    private static final int CANCELLED = 4;
    private static final int QUEUED = 5;
    private static final int RUNNING = 6;

    private FleetFacts() {}

    /** The signed changes from {@code before} (null: nothing yet) to {@code after}, for both scopes. */
    public static List<FleetEvent> diff(JobStatus before, JobStatus after) {
        Map<Long, int[]> changes = new TreeMap<>();
        contribute(after, +1, changes);
        contribute(before, -1, changes);
        List<FleetEvent> out = new ArrayList<>();
        for (Map.Entry<Long, int[]> e : changes.entrySet()) {
            int[] c = e.getValue();
            boolean any = false;
            for (int v : c) {
                any |= v != 0;
            }
            if (!any) {
                continue;
            }
            for (String[] subject : subjects(after)) {
                out.add(FleetEvent.newBuilder()
                        .setScope(subject[0]).setSubject(subject[1]).setAt(e.getKey())
                        .setSubmitted(c[SUBMITTED]).setStarted(c[STARTED]).setCompleted(c[COMPLETED])
                        .setFailed(c[FAILED]).setCancelled(c[CANCELLED])
                        .setQueuedDelta(c[QUEUED]).setRunningDelta(c[RUNNING])
                        .build());
            }
        }
        return out;
    }

    /** A queue wait or run time that ended at {@code at}, for both scopes. */
    public static List<FleetEvent> duration(JobStatus job, long at, Long queueWaitMs, Long runMs) {
        List<FleetEvent> out = new ArrayList<>();
        for (String[] subject : subjects(job)) {
            out.add(FleetEvent.newBuilder().setScope(subject[0]).setSubject(subject[1]).setAt(at)
                    .setQueueWaitMs(queueWaitMs).setRunMs(runMs).build());
        }
        return out;
    }

    /** The key of the fleet statistics operator. */
    public static String key(FleetEvent e) {
        return e.getScope() + "|" + e.getSubject();
    }

    private static List<String[]> subjects(JobStatus job) {
        List<String[]> subjects = new ArrayList<>(2);
        if (job.getHpcSystem() != null) {
            subjects.add(new String[] {SYSTEM, job.getHpcSystem()});
        }
        subjects.add(new String[] {USER, job.getUserId()});
        return subjects;
    }

    private static void contribute(JobStatus s, int sign, Map<Long, int[]> changes) {
        if (s == null) {
            return;
        }
        Long submitted = millis(s.getSubmittedAt());
        Long queued = millis(s.getQueuedAt());
        Long started = millis(s.getStartedAt());
        boolean ended = Transitions.isTerminal(s.getStatus());
        Long endedAt = ended ? millis(s.getEndedAt()) : null;
        if (submitted != null) {
            add(changes, submitted, SUBMITTED, sign);
        }
        if (queued != null) {
            add(changes, queued, QUEUED, sign);
            Long left = started != null ? started : endedAt;
            if (left != null) {
                add(changes, left, QUEUED, -sign);
            }
        }
        if (started != null) {
            add(changes, started, STARTED, sign);
            add(changes, started, RUNNING, sign);
            if (endedAt != null) {
                add(changes, endedAt, RUNNING, -sign);
            }
        }
        if (endedAt != null) {
            int field = switch (s.getStatus()) {
                case COMPLETED -> COMPLETED;
                case FAILED -> FAILED;
                default -> CANCELLED;
            };
            add(changes, endedAt, field, sign);
        }
    }

    private static void add(Map<Long, int[]> changes, long at, int field, int delta) {
        changes.computeIfAbsent(at, t -> new int[7])[field] += delta;
    }

    private static Long millis(Instant i) {
        return i == null ? null : i.toEpochMilli();
    }
}
