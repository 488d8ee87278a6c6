package io.cosmichorizons.generator;

import io.cosmichorizons.events.NotificationChannel;
import io.cosmichorizons.events.NotificationPreference;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Plans a workload without touching Kafka: the deterministic sequence of records to publish, and its ground truth.
 *
 * <p>The sequence is: the notification preferences, then every job's events merged into one timeline ordered by event
 * time (ties by job), with the configured injections. Planning streams: jobs are simulated when their submission time
 * comes and dropped when their last event is out, so memory follows the number of concurrently active jobs, not the
 * size of the workload.
 */
public final class WorkloadPlanner {
    /** Share of users who set a notification preference; a quarter of those mute notifications. */
    private static final double PREFERENCE_SHARE = 0.2;
    private static final double MUTED_SHARE = 0.25;

    private final GeneratorConfig config;

    public WorkloadPlanner(GeneratorConfig config) {
        this.config = config;
    }

    /** A fully planned workload held in memory; for tests and small workloads. */
    public record PlannedWorkload(List<PlannedRecord> records, GroundTruth groundTruth) {}

    /** Plans the whole workload in memory. */
    public PlannedWorkload planAll() {
        List<PlannedRecord> records = new ArrayList<>();
        GroundTruth.Collector truth = GroundTruth.collector();
        plan(records::add, truth);
        return new PlannedWorkload(records, truth.result());
    }

    /** The record counts and time range of the workload; plans it once without keeping anything. */
    public GroundTruth.Totals plannedTotals() {
        TotalsCapture capture = new TotalsCapture();
        plan(record -> {}, capture);
        return capture.totals();
    }

    /**
     * Plans the workload, handing each record to {@code records} in publishing order and the ground truth to
     * {@code truth} as it becomes known.
     */
    public void plan(Consumer<? super PlannedRecord> records, GroundTruthSink truth) {
        truth.run(GroundTruth.Run.of(config));
        PlannerOutput out = new PlannerOutput(records, truth);
        planPreferences(out, truth);

        Injector injector = new Injector(config, out);
        JobSimulator simulator = new JobSimulator(config);
        SubmissionTimes submissions = new SubmissionTimes(config);
        PriorityQueue<SimulatedJob> active = new PriorityQueue<>(
                Comparator.comparingLong(SimulatedJob::nextTime).thenComparingInt(job -> job.index));
        int nextJob = 0;
        while (nextJob < config.jobs() || !active.isEmpty()) {
            // A job joins when the timeline reaches its submission; on a tie the earlier job's event goes first.
            if (nextJob < config.jobs() && (active.isEmpty() || submissions.peek() < active.peek().nextTime())) {
                SimulatedJob job = simulator.simulate(nextJob++, submissions.next());
                truth.job(job.truth);
                active.add(job);
            } else {
                SimulatedJob job = active.poll();
                injector.accept(job.next());
                if (job.hasNext()) {
                    active.add(job);
                }
            }
        }
        injector.finish();
        truth.totals(out.totals());
    }

    private void planPreferences(PlannerOutput out, GroundTruthSink truth) {
        Random rnd = Randoms.stream(config.seed(), Randoms.PREFERENCES, 0);
        long start = config.startTime().toEpochMilli();
        for (int user = 0; user < config.users(); user++) {
            if (rnd.nextDouble() >= PREFERENCE_SHARE) {
                continue;
            }
            boolean muted = rnd.nextDouble() < MUTED_SHARE;
            List<NotificationChannel> channels = new ArrayList<>();
            if (rnd.nextDouble() < 0.7) {
                channels.add(NotificationChannel.EMAIL);
            }
            if (rnd.nextDouble() < 0.5) {
                channels.add(NotificationChannel.IN_APP);
            }
            if (rnd.nextDouble() < 0.6) {
                channels.add(NotificationChannel.WEBSOCKET);
            }
            if (channels.isEmpty()) {
                channels.add(NotificationChannel.IN_APP);
            }
            // Set before the window opens, one second apart, so they too are in event-time order.
            long updatedAt = start - (config.users() - user) * 1000L;
            String userId = JobSimulator.userId(user);
            NotificationPreference preference =
                    new NotificationPreference(userId, channels, muted, Instant.ofEpochMilli(updatedAt));
            truth.preference(new GroundTruth.Preference(userId, channels, muted, updatedAt));
            out.emit(new PlannedRecord.ValidEvent(config.topics().notificationPreferences(), preference, Randoms.uuid(rnd)));
        }
    }

    /**
     * Submission times spread over the window as a Poisson process conditioned on its count: the normalised partial
     * sums of n+1 exponential draws. The sum is computed in a first pass over the same stream, so times come out in
     * order without being stored.
     */
    private static final class SubmissionTimes {
        private final long start;
        private final double windowMs;
        private final double total;
        private final Random rnd;
        private double cumulative;
        private long peeked;
        private boolean hasPeeked;

        SubmissionTimes(GeneratorConfig config) {
            this.start = config.startTime().toEpochMilli();
            this.windowMs = config.submissionWindow().toMillis();
            Random first = Randoms.stream(config.seed(), Randoms.ARRIVALS, 0);
            double sum = 0;
            for (int i = 0; i <= config.jobs(); i++) {
                sum += exponential(first);
            }
            this.total = sum;
            this.rnd = Randoms.stream(config.seed(), Randoms.ARRIVALS, 0);
        }

        long peek() {
            if (!hasPeeked) {
                cumulative += exponential(rnd);
                peeked = start + (long) Math.floor(windowMs * cumulative / total);
                hasPeeked = true;
            }
            return peeked;
        }

        long next() {
            long next = peek();
            hasPeeked = false;
            return next;
        }

        private static double exponential(Random rnd) {
            return -Math.log(1.0 - rnd.nextDouble());
        }
    }
}
