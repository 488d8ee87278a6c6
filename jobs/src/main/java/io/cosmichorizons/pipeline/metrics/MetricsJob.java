package io.cosmichorizons.pipeline.metrics;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.JobStatus;
import io.cosmichorizons.events.MetricsAggregate;
import io.cosmichorizons.events.internal.FleetStats;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.InputTally;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.health.Alerts;
import io.cosmichorizons.pipeline.health.InputHealthMonitor;
import io.cosmichorizons.pipeline.health.InputTallies;
import io.cosmichorizons.pipeline.health.InputTallyCombiner;
import io.cosmichorizons.pipeline.health.JobHealthOperator;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.pipeline.lifecycle.LifecycleStateMachine;
import io.cosmichorizons.serde.EventKind;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The metrics job: job-lifecycle and job-metrics -> per-job window aggregates (job_metrics_1m, metrics-aggregates),
 * job summaries (job_summary), per-minute fleet statistics per HPC system and user (fleet_stats_1m), and alerts
 * (system-alerts, alerts): stuck jobs, missing heartbeats, error rate, dead-letter rate, event-time and watermark lag.
 *
 * <p>It runs apart from the lifecycle job: it needs both input topics, its state (open windows, fleet minutes, alert
 * deadlines) and its timers grow with running jobs and metrics volume rather than with lifecycle events, and
 * operators can restart, rescale or roll back one without the other. The job's statuses come from the same
 * {@link LifecycleStateMachine} as in the lifecycle job (deduplicated, reordered), so both read the lifecycle alike.
 *
 * <pre>
 * flink run -c io.cosmichorizons.pipeline.metrics.MetricsJob horizons-jobs-job.jar --config metrics.yaml
 * </pre>
 */
public final class MetricsJob {
    public static final String JOB_NAME = "horizons-metrics";
    /** Stage of the dead letters this job writes for rejected metrics records. */
    public static final String DESERIALIZER_STAGE = "metrics-deserializer";
    /** Longest a summed input tally waits (processing time) when no watermark or barrier flushes it first. */
    static final long TALLY_FLUSH_MILLIS = 200;

    private MetricsJob() {}

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--help")) {
            System.out.println("Usage: flink run -c " + MetricsJob.class.getName() + " <job jar> [--config FILE] [--key value ...]\n");
            System.out.print(Option.table(MetricsJobConfig.OPTIONS));
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        new Definition().define(env, Settings.fromArgs(args));
        env.execute(JOB_NAME);
    }

    /** Wires the dataflow. Sources and sinks come from outside, so tests can use bounded sources and other sinks. */
    public static void defineWorkflow(StreamExecutionEnvironment env, MetricsJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> metricsSource, MetricsSinks sinks) {
        defineWorkflow(env, config, lifecycleSource, metricsSource, sinks, UnaryOperator.identity());
    }

    /**
     * As above, with {@code beforeMetrics} applied to the accepted metrics samples first: the exactly-once tests put a
     * failing operator there.
     */
    public static void defineWorkflow(StreamExecutionEnvironment env, MetricsJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> metricsSource, MetricsSinks sinks,
            UnaryOperator<DataStream<InputEnvelope>> beforeMetrics) {
        AvroTypeInfo<InputEnvelope> envelopeType = new AvroTypeInfo<>(InputEnvelope.class);
        AvroTypeInfo<DeadLetter> deadLetterType = new AvroTypeInfo<>(DeadLetter.class);
        AvroTypeInfo<InputTally> tallyType = new AvroTypeInfo<>(InputTally.class);
        AvroTypeInfo<Alert> alertType = new AvroTypeInfo<>(Alert.class);

        DataStream<InputEnvelope> lifecycleIn = env
                .fromSource(lifecycleSource, watermarks(config), "job-lifecycle source (metrics)")
                .uid("metrics-lifecycle-source").name("job-lifecycle source");
        DataStream<InputEnvelope> metricsIn = env
                .fromSource(metricsSource, watermarks(config), "job-metrics source")
                .uid("metrics-samples-source").name("job-metrics source");

        SingleOutputStreamOperator<InputEnvelope> lifecycle = lifecycleIn
                .process(new DeadLetterRouting.SplitDeadLetters())
                .uid("metrics-lifecycle-split").name("split lifecycle dead letters");
        SingleOutputStreamOperator<InputEnvelope> samples = metricsIn
                .process(new DeadLetterRouting.SplitDeadLetters())
                .uid("metrics-samples-split").name("split metrics dead letters");

        // The job's statuses, by the lifecycle rules. The lifecycle job owns (and dead-letters) the lifecycle input;
        // here its rejects only count towards the data-quality alert.
        SingleOutputStreamOperator<JobStatus> statuses = lifecycle
                .keyBy(e -> ((JobLifecycleEvent) e.getEvent()).getJobId(), Types.STRING)
                .process(new LifecycleStateMachine(config.lifecycleRules()), new AvroTypeInfo<>(JobStatus.class))
                .uid("metrics-lifecycle-state-machine").name("lifecycle rules (job statuses)");

        DataStream<InputEnvelope> acceptedSamples = beforeMetrics.apply(samples);
        KeyedStream<JobStatus, String> statusByJob = statuses.keyBy(JobStatus::getJobId, Types.STRING);
        KeyedStream<InputEnvelope, String> samplesByJob =
                acceptedSamples.keyBy(e -> ((JobMetricsEvent) e.getEvent()).getJobId(), Types.STRING);

        // Per job: windows, summary, fleet changes.
        SingleOutputStreamOperator<MetricsAggregate> aggregates = statusByJob.connect(samplesByJob)
                .process(new JobMetricsTracker(config.tracker()), new AvroTypeInfo<>(MetricsAggregate.class))
                .uid("metrics-job-tracker").name("per-job windows and summary");
        aggregates.sinkTo(sinks.jobMetricsTable()).uid("metrics-job-metrics-sink").name("job_metrics_1m (PostgreSQL upsert)");
        aggregates.sinkTo(sinks.aggregatesTopic()).uid("metrics-aggregates-topic-sink").name("metrics-aggregates (Kafka, exactly-once)");
        aggregates.getSideOutput(JobMetricsTracker.SUMMARIES)
                .sinkTo(sinks.jobSummary()).uid("metrics-job-summary-sink").name("job_summary (PostgreSQL upsert)");

        // Per HPC system and per user, each minute; the system's error-rate alert.
        SingleOutputStreamOperator<FleetStats> fleet = aggregates.getSideOutput(JobMetricsTracker.FLEET)
                .keyBy(FleetFacts::key, Types.STRING)
                .process(new FleetStatsAggregator(config.fleet()), new AvroTypeInfo<>(FleetStats.class))
                .uid("metrics-fleet-stats").name("fleet statistics per minute");
        fleet.sinkTo(sinks.fleetStats()).uid("metrics-fleet-stats-sink").name("fleet_stats_1m (PostgreSQL upsert)");

        // Per job: stuck jobs and missing heartbeats.
        SingleOutputStreamOperator<Alert> jobAlerts = statusByJob.connect(samplesByJob)
                .transform("stuck jobs and heartbeats", alertType, new JobHealthOperator(config.jobHealth()))
                .uid("health-job-monitor");

        // Per input topic: dead-letter rate and lag, from a tally of every record and every rejection.
        DataStream<DeadLetter> ownDeadLetters = samples.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                .map(new RestageDeadLetter(DESERIALIZER_STAGE), deadLetterType)
                .uid("metrics-restage-dead-letters").name("stage metrics dead letters")
                .union(aggregates.getSideOutput(DeadLetterRouting.DEAD_LETTERS));
        // Input tallies are summed per topic and minute next to their source (chained, no shuffle per record).
        DataStream<InputTally> tallies = lifecycleIn.map(new InputTallies.OfInput(), tallyType)
                .uid("health-tally-lifecycle").name("tally lifecycle input")
                .transform("sum lifecycle tallies", tallyType, new InputTallyCombiner(TALLY_FLUSH_MILLIS))
                .uid("health-sum-lifecycle-tallies")
                .union(metricsIn.map(new InputTallies.OfInput(), tallyType)
                                .uid("health-tally-metrics").name("tally metrics input")
                                .transform("sum metrics tallies", tallyType, new InputTallyCombiner(TALLY_FLUSH_MILLIS))
                                .uid("health-sum-metrics-tallies"),
                        statuses.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                                .map(new InputTallies.OfDeadLetter(false), tallyType)
                                .uid("health-tally-lifecycle-rejects").name("tally lifecycle rejects"),
                        aggregates.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                                .map(new InputTallies.OfDeadLetter(false), tallyType)
                                .uid("health-tally-late-samples").name("tally late samples"));
        SingleOutputStreamOperator<Alert> inputAlerts = tallies
                .keyBy(InputTally::getTopic, Types.STRING)
                .process(new InputHealthMonitor(config.inputHealth()), alertType)
                .uid("health-input-monitor").name("dead-letter rate and lag");

        DataStream<Alert> alerts = jobAlerts.union(inputAlerts, fleet.getSideOutput(Alerts.ALERTS));
        alerts.sinkTo(sinks.alertsTopic()).uid("metrics-alerts-topic-sink").name("system-alerts (Kafka, exactly-once)");
        alerts.sinkTo(sinks.alertsTable()).uid("metrics-alerts-table-sink").name("alerts (PostgreSQL upsert)");

        ownDeadLetters
                .map(new DeadLetterRouting.CountDeadLetters(), deadLetterType)
                .uid("metrics-count-dead-letters").name("count dead letters by reason")
                .sinkTo(sinks.deadLetters()).uid("metrics-dead-letter-sink").name("job-events-dlq (Kafka, exactly-once)");
    }

    private static WatermarkStrategy<InputEnvelope> watermarks(MetricsJobConfig config) {
        return WatermarkStrategy
                .<InputEnvelope>forBoundedOutOfOrderness(config.outOfOrderness())
                .withTimestampAssigner((e, kafkaTimestamp) -> eventTime(e))
                .withIdleness(config.sourceIdleness());
    }

    /** Event time: occurred_at of a lifecycle event, sampled_at of a sample, else the Kafka record timestamp. */
    static long eventTime(InputEnvelope e) {
        if (e.getEvent() instanceof JobLifecycleEvent event) {
            return event.getOccurredAt().toEpochMilli();
        }
        if (e.getEvent() instanceof JobMetricsEvent sample) {
            return sample.getSampledAt().toEpochMilli();
        }
        return e.getSource().getTimestamp().toEpochMilli();
    }

    /** Marks a dead letter as this job's, so it can be told apart from the lifecycle job's in the shared topic. */
    static final class RestageDeadLetter implements MapFunction<DeadLetter, DeadLetter> {
        private static final long serialVersionUID = 1L;
        private final String stage;

        RestageDeadLetter(String stage) {
            this.stage = stage;
        }

        @Override
        public DeadLetter map(DeadLetter dl) {
            return DeadLetter.newBuilder(dl).setStage(stage).build();
        }
    }

    /** The job as the CLI and the demo see it. */
    public static final class Definition implements PipelineJob {
        @Override
        public String name() {
            return "metrics";
        }

        @Override
        public String jobName() {
            return JOB_NAME;
        }

        @Override
        public Class<?> mainClass() {
            return MetricsJob.class;
        }

        @Override
        public List<Option> options() {
            return MetricsJobConfig.OPTIONS;
        }

        @Override
        public void define(StreamExecutionEnvironment env, Settings settings) {
            MetricsJobConfig config = MetricsJobConfig.from(settings);
            PipelineEnvironment.configure(env, config.common());
            defineWorkflow(env, config, source(config, EventKind.LIFECYCLE, config.lifecycleTopic(), "-lifecycle"),
                    source(config, EventKind.METRICS, config.metricsTopic(), "-metrics"), MetricsSinks.production(config));
        }

        private static Source<InputEnvelope, ?, ?> source(MetricsJobConfig config, EventKind kind, String topic,
                String clientSuffix) {
            // One consumer group for the job (its lag is the job's lag); distinct client ids per source.
            return KafkaInputs.envelopes(config.common(), kind, List.of(topic), config.groupId())
                    .setClientIdPrefix(config.groupId() + clientSuffix)
                    .build();
        }
    }
}
