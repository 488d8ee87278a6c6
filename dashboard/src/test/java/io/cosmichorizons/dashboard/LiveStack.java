package io.cosmichorizons.dashboard;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertSeverity;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.CancelledDetails;
import io.cosmichorizons.events.CompletedDetails;
import io.cosmichorizons.events.FailedDetails;
import io.cosmichorizons.events.QueuedDetails;
import io.cosmichorizons.events.RunningDetails;
import io.cosmichorizons.events.SubmittedDetails;
import io.cosmichorizons.pipeline.lifecycle.LifecycleJob;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.waiting.Poll;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What the browser tests run against: an isolated {@link TestStack} (prefixed topics, a fresh migrated database) on the
 * suite's real Kafka and PostgreSQL, the lifecycle job on the class's MiniCluster, the dashboard reading that stack, a
 * lifecycle publisher and a transactional alert producer (alerts come from the metrics job in production; these tests
 * write the topic contract directly).
 */
final class LiveStack implements AutoCloseable {
    static final String LIFECYCLE_JOB_NAME = "horizons-lifecycle (dashboard test)";

    final TestStack stack;
    final JobClient lifecycle;
    final EventPublisher publisher;
    final URI flinkRest;
    private final KafkaProducer<byte[], byte[]> alerts;
    DashboardServer dashboard;

    private LiveStack(TestStack stack, JobClient lifecycle, EventPublisher publisher, URI flinkRest,
            KafkaProducer<byte[], byte[]> alerts) {
        this.stack = stack;
        this.lifecycle = lifecycle;
        this.publisher = publisher;
        this.flinkRest = flinkRest;
        this.alerts = alerts;
    }

    /** {@code flink}: the class's MiniCluster (injected with {@code @InjectMiniCluster}, also in {@code @BeforeAll}). */
    static LiveStack start(String name, MiniCluster flink) throws Exception {
        TestStack stack = TestStack.create(name);
        StreamExecutionEnvironment env = new TestStreamEnvironment(flink, 2);
        new LifecycleJob.Definition().define(env, stack.settings());
        JobClient lifecycle = env.executeAsync(LIFECYCLE_JOB_NAME);
        EventPublisher publisher = EventPublisher.builder().bootstrapServers(RealServices.bootstrapServers())
                .topics(stack.inputs).build();
        URI flinkRest = flink.getRestAddress().get();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, RealServices.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "dashboard-test-alerts-" + UUID.randomUUID());
        KafkaProducer<byte[], byte[]> alerts = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        alerts.initTransactions();
        return new LiveStack(stack, lifecycle, publisher, flinkRest, alerts);
    }

    /** Starts (or restarts, on the same port) the dashboard on this stack. */
    DashboardServer startDashboard(int port) {
        DashboardConfig config = DashboardConfig.defaults(RealServices.bootstrapServers(), stack.jdbcUrl)
                .withBind("127.0.0.1", port)
                .withTopics(stack.topic(Topics.JOB_NOTIFICATIONS), stack.topic(Topics.SYSTEM_ALERTS),
                        stack.topic(Topics.DEAD_LETTERS))
                .withFlinkRest(flinkRest)
                // job_status panels are re-read after each commit; the timers only resync every 30 s, and would
                // re-read every 5 s if changes went unheard, so the 1-s checks cannot pass by a lucky timer.
                .withIntervals(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1))
                .withChangeRefresh(Duration.ofMillis(250), Duration.ofSeconds(30));
        dashboard = DashboardServer.start(config);
        return dashboard;
    }

    /** Publishes an alert record in its own Kafka transaction, as the metrics job's exactly-once sink does. */
    void publishAlert(Alert alert) {
        alerts.beginTransaction();
        alerts.send(new ProducerRecord<>(stack.topic(Topics.SYSTEM_ALERTS),
                alert.getAlertId().getBytes(StandardCharsets.UTF_8), AvroCodec.encode(alert)));
        alerts.commitTransaction();
    }

    static Alert alert(String id, AlertState state, AlertSeverity severity, String subject, String message,
            Instant openedAt, Instant resolvedAt) {
        return Alert.newBuilder().setAlertId(id).setAlertType(AlertType.STUCK_QUEUED).setSeverity(severity)
                .setState(state).setSubject(subject).setHpcSystem("test-hpc").setMessage(message).setValue(900.0)
                .setThreshold(600.0).setOpenedAt(openedAt)
                .setUpdatedAt(resolvedAt != null ? resolvedAt : openedAt).setResolvedAt(resolvedAt).build();
    }

    // ------------------------------------------------------------------------------------------ lifecycle events

    /** A job that reaches QUEUED (and RUNNING if {@code startedAt} is given) and stays there. */
    void openJob(String jobId, String user, String system, String pipeline, Instant submittedAt, Instant queuedAt,
            Instant startedAt) throws Exception {
        publisher.publishJobSubmitted(jobId, user, submitted(pipeline, system), submittedAt).get();
        if (queuedAt != null) {
            publisher.publishJobQueued(jobId, user, new QueuedDetails("hpc-" + jobId, 3, "Priority"), queuedAt).get();
        }
        if (startedAt != null) {
            publisher.publishJobRunning(jobId, user, new RunningDetails(1), startedAt).get();
        }
    }

    /** A job that runs and completes; its events are {@code first}, +1 s, +2 s, +3 s. */
    void completedJob(String jobId, String user, String system, Instant first) throws Exception {
        openJob(jobId, user, system, "imaging", first, first.plusSeconds(1), first.plusSeconds(2));
        publisher.publishJobCompleted(jobId, user, new CompletedDetails(1_000L, 0, "s3://out/" + jobId),
                first.plusSeconds(3)).get();
    }

    /** A job that runs and fails with the given (producer-supplied) error. */
    void failedJob(String jobId, String user, String system, String pipeline, String errorCode, String errorMessage,
            Instant first) throws Exception {
        openJob(jobId, user, system, pipeline, first, first.plusSeconds(1), first.plusSeconds(2));
        publisher.publishJobFailed(jobId, user, new FailedDetails(errorCode, errorMessage, 3, false),
                first.plusSeconds(3)).get();
    }

    /** A queued job that is cancelled with the given reason. */
    void cancelledJob(String jobId, String user, String system, String reason, String by, Instant first)
            throws Exception {
        openJob(jobId, user, system, "calibration", first, first.plusSeconds(1), null);
        publisher.publishJobCancelled(jobId, user, new CancelledDetails(reason, by), first.plusSeconds(2)).get();
    }

    private static SubmittedDetails submitted(String pipeline, String system) {
        return new SubmittedDetails(pipeline, system, "batch", 4, 8L << 30, 3_600_000L);
    }

    // ------------------------------------------------------------------------------------------ helpers

    static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Polls {@code condition} every 50 ms until it holds and returns how long that took; fails after the deadline.
     * (Fine-grained, because some checks measure the latency.)
     */
    static Duration within(String what, Duration timeout, BooleanSupplier condition) {
        long start = System.nanoTime();
        if (!Poll.until(timeout, Duration.ofMillis(50), condition)) {
            throw new AssertionError((Thread.currentThread().isInterrupted() ? "Interrupted" : "Timed out after " + timeout)
                    + " waiting for " + what);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Override
    public void close() throws Exception {
        try {
            if (dashboard != null) {
                dashboard.close();
            }
            alerts.close(Duration.ofSeconds(2));
            publisher.close();
        } finally {
            lifecycle.cancel().get();
        }
    }
}
