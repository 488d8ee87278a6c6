package io.cosmichorizons.pipeline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.health.Alerts;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The alert scenarios, hand-made, on a running (unbounded) metrics job against the real broker and PostgreSQL: a job
 * stuck in its queue while the input is idle, a running job that goes silent, a burst of failures, a burst of bad
 * records, a late sample, and input that is hours behind the wall clock.
 */
@ExtendWith(RealServices.class)
class AlertScenariosITCase {
    static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    private static final Duration WAIT = Duration.ofSeconds(90);
    /** The scenario's event times start two hours ago, on a whole minute. */
    private final long base = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MINUTES).toEpochMilli();
    private final List<Timed> phase = new ArrayList<>();

    private record Timed(long at, Supplier<CompletableFuture<?>> send) {}

    @Test
    void alertsOpenAndResolveOnIdleAndLiveInput() throws Exception {
        TestStack stack = TestStack.create("metrics-alerts");
        Settings settings = MetricsJobITCase.settings(stack)
                .with("metrics.out-of-orderness", "2s")
                // Short, so that the empty partitions of the hand-made input soon stop holding the watermark back; not
                // so short that a source is declared idle before its first fetch, which would make its records late.
                .with("metrics.source-idleness", "5s")
                .with("health.idle-timeout", "2s")
                .with("health.heartbeat-interval", "1h")
                .with("health.thresholds.siteh.heartbeat-interval", "5s")
                .with("health.heartbeat-missed", "2")
                .with("health.thresholds.sitea.queue-sla", "5s")
                .with("health.error-rate-window", "5m")
                .with("health.lag-check-interval", "1s");
        JobClient job = null;
        try (EventPublisher publisher = EventPublisher.builder().bootstrapServers(RealServices.bootstrapServers())
                .topics(stack.inputs).build()) {
            // ---- phase 1: everything up to ten minutes in, then the input goes idle
            errorBurst(publisher);
            JobEvents.Job late = new JobEvents.Job("late-1", "sitel", "work", 4, 7_200_000L);
            lifecycle(publisher, late, LifecycleEventType.SUBMITTED, 60);
            lifecycle(publisher, late, LifecycleEventType.QUEUED, 61);
            lifecycle(publisher, late, LifecycleEventType.RUNNING, 62);
            for (long t = 70; t <= 480; t += 10) {
                sample(publisher, "late-1", t, t - 62);
            }
            lifecycle(publisher, late, LifecycleEventType.COMPLETED, 485);
            for (int i = 0; i < 150; i++) {
                byte[] key = ("garbage-" + i).getBytes(StandardCharsets.UTF_8);
                long at = base + 250_000 + i;
                phase.add(new Timed(at, () -> publisher.sendRaw(stack.topic(Topics.JOB_METRICS), key,
                        new byte[] {(byte) 0x85, 1, 2, 3}, at, null)));
            }
            JobEvents.Job silent = new JobEvents.Job("silent-1", "siteh", "work", 4, 7_200_000L);
            lifecycle(publisher, silent, LifecycleEventType.SUBMITTED, 540);
            lifecycle(publisher, silent, LifecycleEventType.QUEUED, 541);
            lifecycle(publisher, silent, LifecycleEventType.RUNNING, 542);
            sample(publisher, "silent-1", 547, 5);
            sample(publisher, "silent-1", 552, 10);
            JobEvents.Job stuck = new JobEvents.Job("stuck-1", "sitea", "work", 4, 7_200_000L);
            lifecycle(publisher, stuck, LifecycleEventType.SUBMITTED, 603);
            lifecycle(publisher, stuck, LifecycleEventType.QUEUED, 605);
            ticks(publisher, 606, "a");
            publishPhase(publisher);
            // Started once both topics hold data, so that neither source looks idle while the other races ahead.
            job = MetricsJobITCase.run(stack, settings, false, s -> s);

            // The input is idle now, with the watermark 5 s short of the stuck job's deadline: only the processing-time
            // fallback can raise it.
            Alert stuckOpen = await(stack, AlertType.STUCK_QUEUED, "stuck-1", AlertState.OPEN);
            assertEquals(at(610), stuckOpen.getOpenedAt().toEpochMilli(), "opened at the deadline in event time");
            assertTrue(stuckOpen.getMessage().contains("idle"), stuckOpen.getMessage());
            assertTrue(gauge(job, "alertsOpen", "STUCK_QUEUED") >= 1, "the alertsOpen gauge counts it");
            Alert silentOpen = await(stack, AlertType.MISSING_HEARTBEAT, "silent-1", AlertState.OPEN);
            assertEquals(at(552 + 10), silentOpen.getOpenedAt().toEpochMilli());
            awaitRow(stack, "SELECT count(*) FROM job_metrics_1m WHERE job_id = 'late-1' AND window_start = to_timestamp("
                    + at(120) / 1000 + ")");

            // ---- phase 2: the stuck job starts, the silent one ends, and a sample of a written window arrives
            lifecycle(publisher, silent, LifecycleEventType.COMPLETED, 640);
            lifecycle(publisher, stuck, LifecycleEventType.RUNNING, 650);
            sample(publisher, "late-1", 125, 63);
            ticks(publisher, 660, "b");
            publishPhase(publisher);

            Alert stuckResolved = await(stack, AlertType.STUCK_QUEUED, "stuck-1", AlertState.RESOLVED);
            assertEquals(stuckOpen.getAlertId(), stuckResolved.getAlertId());
            assertEquals(at(650), stuckResolved.getResolvedAt().toEpochMilli());
            Alert silentResolved = await(stack, AlertType.MISSING_HEARTBEAT, "silent-1", AlertState.RESOLVED);
            assertEquals(at(640), silentResolved.getResolvedAt().toEpochMilli());

            // The burst: opens at the end of minute 2 (12 of 45 failed), stays open between the thresholds, resolves
            // at the end of minute 6 (12 of 85).
            Alert burstOpen = await(stack, AlertType.ERROR_RATE, "burst", AlertState.OPEN);
            Alert burstResolved = await(stack, AlertType.ERROR_RATE, "burst", AlertState.RESOLVED);
            assertEquals(at(180), burstOpen.getOpenedAt().toEpochMilli());
            assertEquals(at(420), burstResolved.getResolvedAt().toEpochMilli());
            assertEquals(Alerts.alertId(AlertType.ERROR_RATE, "burst", at(180)), burstResolved.getAlertId());

            // 150 unparseable records in minute 4 of job-metrics.
            String metricsTopic = stack.topic(Topics.JOB_METRICS);
            assertEquals(at(300), await(stack, AlertType.DEAD_LETTER_RATE, metricsTopic, AlertState.OPEN).getOpenedAt().toEpochMilli());
            assertEquals(at(600), await(stack, AlertType.DEAD_LETTER_RATE, metricsTopic, AlertState.RESOLVED).getResolvedAt().toEpochMilli());

            // The input is two hours old: event-time lag, resolved once the input is drained.
            String lifecycleTopic = stack.topic(Topics.JOB_LIFECYCLE);
            assertTrue(await(stack, AlertType.EVENT_TIME_LAG, lifecycleTopic, AlertState.OPEN).getValue() > Duration.ofHours(1).toMillis());
            await(stack, AlertType.EVENT_TIME_LAG, lifecycleTopic, AlertState.RESOLVED);

            // The late sample: dead-lettered as LATE_SAMPLE, counted, and still in the job's summary.
            TestStack.await("the late sample in the dead-letter topic", WAIT, () -> stack.deadLetters().stream()
                    .anyMatch(dl -> dl.getReason() == DeadLetterReason.LATE_SAMPLE));
            List<DeadLetter> deadLetters = stack.deadLetters();
            assertEquals(1, deadLetters.stream().filter(dl -> dl.getReason() == DeadLetterReason.LATE_SAMPLE
                    && dl.getStage().equals(JobMetricsTracker.STAGE) && "late-1".equals(dl.getJobId())).count());
            assertEquals(150, deadLetters.stream().filter(dl -> dl.getReason() == DeadLetterReason.UNPARSEABLE
                    && dl.getStage().equals(MetricsJob.DESERIALIZER_STAGE)).count());
            JobClient running = job;
            TestStack.await("lateSamples counted", WAIT, () -> counter(running, "lateSamples") == 1);
            awaitRow(stack, "SELECT count(*) FROM job_summary WHERE job_id = 'late-1' AND late_sample_count = 1"
                    + " AND sample_count = 43");
            assertTrue(REPORTER.findMetrics(job.getJobID(), "windowLagMs").size() > 0, "the windowLagMs gauge exists");

            // Every alert record once, and the table agrees with the topic.
            var all = TestStack.readAll(stack.topic(Topics.SYSTEM_ALERTS), Alert.class, Alert.getClassSchema());
            assertEquals(all.size(), all.stream().map(a -> a.getAlertId() + a.getState()).distinct().count(), "no duplicates");
            awaitRow(stack, "SELECT count(*) FROM alerts WHERE alert_id = '" + stuckOpen.getAlertId() + "' AND state = 'RESOLVED'");
        } finally {
            if (job != null) {
                job.cancel().get();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the scenarios

    /** System "burst": per minute (completed, failed); the failures are scheduler rejections right after QUEUED. */
    private void errorBurst(EventPublisher publisher) {
        int[][] perMinute = {{15, 0}, {15, 0}, {3, 12}, {10, 0}, {20, 0}, {20, 0}, {20, 0}};
        int n = 0;
        for (int minute = 0; minute < perMinute.length; minute++) {
            for (int i = 0; i < perMinute[minute][0] + perMinute[minute][1]; i++) {
                boolean fails = i >= perMinute[minute][0];
                JobEvents.Job j = new JobEvents.Job("burst-" + n++, "burst", "work", 2, 3_600_000L, "user-b");
                long end = minute * 60L + 30 + i % 20;
                lifecycle(publisher, j, LifecycleEventType.SUBMITTED, end - 25);
                lifecycle(publisher, j, LifecycleEventType.QUEUED, end - 20);
                if (fails) {
                    lifecycle(publisher, j, LifecycleEventType.FAILED, end);
                } else {
                    lifecycle(publisher, j, LifecycleEventType.RUNNING, end - 10);
                    lifecycle(publisher, j, LifecycleEventType.COMPLETED, end);
                }
            }
        }
    }

    /**
     * One record in every partition of both input topics, so that the watermark (the smallest of the partitions' last
     * event times once they are idle) reaches {@code seconds}: a SUBMITTED and a sample of a job of system "tick".
     */
    private void ticks(EventPublisher publisher, long seconds, String round) {
        for (int p = 0; p < Topics.INPUT_PARTITIONS; p++) {
            String key = keyFor(p, "tick-" + round + "-");
            lifecycle(publisher, new JobEvents.Job(key, "tick", "work", 1, 3_600_000L), LifecycleEventType.SUBMITTED, seconds);
            sample(publisher, key, seconds, 1);
        }
    }

    /** A key that Kafka's default partitioner puts on {@code partition}. */
    private static String keyFor(int partition, String prefix) {
        for (int i = 0; ; i++) {
            byte[] key = (prefix + i).getBytes(StandardCharsets.UTF_8);
            if (org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(key))
                    % Topics.INPUT_PARTITIONS == partition) {
                return prefix + i;
            }
        }
    }

    private long at(long seconds) {
        return base + seconds * 1000;
    }

    private void lifecycle(EventPublisher publisher, JobEvents.Job job, LifecycleEventType type, long seconds) {
        JobLifecycleEvent e = job.event(type, 0);
        e.setOccurredAt(Instant.ofEpochMilli(at(seconds)));
        phase.add(new Timed(at(seconds), () -> publisher.publish(e)));
    }

    private void sample(EventPublisher publisher, String jobId, long seconds, long runSeconds) {
        JobMetricsEvent e = JobEvents.sample(jobId, 0, 150, 1L << 30, runSeconds * 1000, runSeconds * 100, runSeconds * 1000);
        e.setSampledAt(Instant.ofEpochMilli(at(seconds)));
        e.setEventId(java.util.UUID.randomUUID().toString());
        phase.add(new Timed(at(seconds), () -> publisher.publish(e)));
    }

    /** Publishes the collected records in event-time order (the order per partition a real producer keeps). */
    private void publishPhase(EventPublisher publisher) throws Exception {
        phase.sort(Comparator.comparingLong(Timed::at));
        List<CompletableFuture<?>> sends = new ArrayList<>();
        phase.forEach(t -> sends.add(t.send().get()));
        publisher.flush();
        for (CompletableFuture<?> f : sends) {
            f.get();
        }
        phase.clear();
    }

    // ------------------------------------------------------------------------------------------ checks

    private static Alert await(TestStack stack, AlertType type, String subject, AlertState state) {
        Alert[] found = new Alert[1];
        TestStack.await(type + " " + state + " for " + subject, WAIT, () -> {
            for (Alert a : MetricsJobITCase.alertsById(stack, type).values().stream().flatMap(List::stream).toList()) {
                if (a.getSubject().equals(subject) && a.getState() == state) {
                    found[0] = a;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private static void awaitRow(TestStack stack, String countQuery) {
        TestStack.await(countQuery, WAIT, () -> {
            long[] n = new long[1];
            try {
                MetricsJobITCase.query(stack, countQuery, rs -> n[0] = rs.getLong(1));
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            return n[0] == 1;
        });
    }

    private static long counter(JobClient job, String name) {
        long sum = 0;
        for (Metric m : REPORTER.findMetrics(job.getJobID(), name).values()) {
            sum += ((Counter) m).getCount();
        }
        return sum;
    }

    private static long gauge(JobClient job, String name, String label) {
        long sum = 0;
        for (Map.Entry<String, Metric> e : REPORTER.findMetrics(job.getJobID(), name).entrySet()) {
            if (e.getKey().contains(label)) {
                sum += ((Number) ((Gauge<?>) e.getValue()).getValue()).longValue();
            }
        }
        return sum;
    }
}
