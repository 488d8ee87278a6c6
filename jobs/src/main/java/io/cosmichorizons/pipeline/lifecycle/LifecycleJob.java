package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.serde.EventKind;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The lifecycle job: job-lifecycle -> per-job state machine -> job_status (PostgreSQL), one notification per job end
 * (Kafka, exactly-once, and the notifications table), and dead letters (Kafka, exactly-once).
 *
 * <pre>
 * flink run -c io.cosmichorizons.pipeline.lifecycle.LifecycleJob horizons-jobs-job.jar --config lifecycle.yaml
 * </pre>
 */
public final class LifecycleJob {
    public static final String JOB_NAME = "horizons-lifecycle";

    private LifecycleJob() {}

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--help")) {
            System.out.println("Usage: flink run -c " + LifecycleJob.class.getName() + " <job jar> [--config FILE] [--key value ...]\n");
            System.out.print(Option.table(LifecycleJobConfig.OPTIONS));
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        new Definition().define(env, Settings.fromArgs(args));
        env.execute(JOB_NAME);
    }

    /**
     * Wires the dataflow. Sources and sinks come from outside, so tests can use bounded sources and collecting sinks.
     */
    public static void defineWorkflow(StreamExecutionEnvironment env, LifecycleJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> preferencesSource,
            LifecycleSinks sinks) {
        defineWorkflow(env, config, lifecycleSource, preferencesSource, sinks, UnaryOperator.identity());
    }

    /**
     * As above, with {@code beforeStateMachine} applied to the accepted events first: the exactly-once tests put a
     * failing operator there.
     */
    public static void defineWorkflow(StreamExecutionEnvironment env, LifecycleJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> preferencesSource,
            LifecycleSinks sinks, UnaryOperator<DataStream<InputEnvelope>> beforeStateMachine) {
        WatermarkStrategy<InputEnvelope> watermarks = WatermarkStrategy
                .<InputEnvelope>forBoundedOutOfOrderness(config.outOfOrderness())
                .withTimestampAssigner((e, kafkaTimestamp) -> eventTime(e))
                .withIdleness(config.sourceIdleness());

        SingleOutputStreamOperator<InputEnvelope> accepted = env
                .fromSource(lifecycleSource, watermarks, "job-lifecycle source")
                .uid("lifecycle-source").name("job-lifecycle source")
                .process(new DeadLetterRouting.SplitDeadLetters())
                .uid("lifecycle-split-dead-letters").name("split dead letters");

        SingleOutputStreamOperator<JobStatus> statuses = beforeStateMachine.apply(accepted)
                .keyBy(e -> ((JobLifecycleEvent) e.getEvent()).getJobId(), Types.STRING)
                .process(new LifecycleStateMachine(config.stateMachine()), new AvroTypeInfo<>(JobStatus.class))
                .uid("lifecycle-state-machine").name("lifecycle state machine");

        statuses.sinkTo(sinks.jobStatus()).uid("job-status-sink").name("job_status (PostgreSQL upsert)");

        SingleOutputStreamOperator<InputEnvelope> acceptedPreferences = env
                .fromSource(preferencesSource, WatermarkStrategy.noWatermarks(), "notification-preferences source")
                .uid("preferences-source").name("notification-preferences source")
                .process(new DeadLetterRouting.SplitDeadLetters())
                .uid("preferences-split-dead-letters").name("split preference dead letters");
        BroadcastStream<InputEnvelope> preferences = acceptedPreferences.broadcast(NotificationRouter.PREFERENCES);

        SingleOutputStreamOperator<Notification> notifications = statuses
                .getSideOutput(LifecycleStateMachine.NOTIFICATIONS)
                .connect(preferences)
                .process(new NotificationRouter(), new AvroTypeInfo<>(Notification.class))
                .uid("notification-router").name("route notifications by preference");
        notifications.sinkTo(sinks.notificationsTopic()).uid("notifications-topic-sink").name("job-notifications (Kafka, exactly-once)");
        notifications.sinkTo(sinks.notificationsTable()).uid("notifications-table-sink").name("notifications (PostgreSQL upsert)");

        DataStream<DeadLetter> deadLetters = accepted.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                .union(statuses.getSideOutput(DeadLetterRouting.DEAD_LETTERS),
                        acceptedPreferences.getSideOutput(DeadLetterRouting.DEAD_LETTERS));
        deadLetters
                .map(new DeadLetterRouting.CountDeadLetters(), new AvroTypeInfo<>(DeadLetter.class))
                .uid("lifecycle-count-dead-letters").name("count dead letters by reason")
                .sinkTo(sinks.deadLetters()).uid("lifecycle-dead-letter-sink").name("job-events-dlq (Kafka, exactly-once)");
    }

    /** Event time of an envelope: occurred_at of a lifecycle event, else the Kafka record timestamp. */
    static long eventTime(InputEnvelope e) {
        if (e.getEvent() instanceof JobLifecycleEvent event) {
            return event.getOccurredAt().toEpochMilli();
        }
        return e.getSource().getTimestamp().toEpochMilli();
    }

    /** The job as the CLI and the demo see it. */
    public static final class Definition implements PipelineJob {
        @Override
        public String name() {
            return "lifecycle";
        }

        @Override
        public String jobName() {
            return JOB_NAME;
        }

        @Override
        public Class<?> mainClass() {
            return LifecycleJob.class;
        }

        @Override
        public List<Option> options() {
            return LifecycleJobConfig.OPTIONS;
        }

        @Override
        public void define(StreamExecutionEnvironment env, Settings settings) {
            LifecycleJobConfig config = LifecycleJobConfig.from(settings);
            PipelineEnvironment.configure(env, config.common());
            Source<InputEnvelope, ?, ?> lifecycle = KafkaInputs
                    .envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId())
                    .build();
            Source<InputEnvelope, ?, ?> preferences = KafkaInputs
                    .envelopes(config.common(), EventKind.PREFERENCES, List.of(config.preferencesTopic()),
                            config.groupId() + "-preferences")
                    .setDeserializer(new PreferenceDeserializer(config.common()))
                    .build();
            defineWorkflow(env, config, lifecycle, preferences, LifecycleSinks.production(config));
        }
    }
}
