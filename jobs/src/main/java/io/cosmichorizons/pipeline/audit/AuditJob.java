package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.events.AuditRecord;
import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.audit.ledger.AuditEntries;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.PipelineEnvironment;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.DeadLetterRouting;
import io.cosmichorizons.pipeline.io.KafkaInputs;
import io.cosmichorizons.serde.EventKind;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The audit job: job-lifecycle and audit-trail -> one hash-chained, MAC'd entry per accepted event in the PostgreSQL
 * table {@code audit_events}; records the decoder rejects and re-published events go to the dead-letter topic
 * (stages {@code audit-deserializer} and {@code audit-chainer}). Every consumed record is audited or dead-lettered.
 *
 * <p>Chain scope: one chain per input (topic, partition), keyed by {@code <topic>/<partition>}. Flink replays a
 * partition's records in the same order after a restore but not the interleaving across partitions, so only a chain
 * fed by one partition is deterministic under replay (see {@link AuditChainer}).
 *
 * <pre>
 * flink run -c io.cosmichorizons.pipeline.audit.AuditJob horizons-jobs-job.jar --config audit.yaml
 * </pre>
 */
public final class AuditJob {
    public static final String JOB_NAME = "horizons-audit";

    private AuditJob() {}

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--help")) {
            System.out.println("Usage: flink run -c " + AuditJob.class.getName() + " <job jar> [--config FILE] [--key value ...]\n");
            System.out.print(Option.table(AuditJobConfig.OPTIONS));
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        new Definition().define(env, Settings.fromArgs(args));
        env.execute(JOB_NAME);
    }

    /** Wires the dataflow. Sources and sinks come from outside, so tests can use bounded sources and other sinks. */
    public static void defineWorkflow(StreamExecutionEnvironment env, AuditJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> auditTrailSource, AuditSinks sinks) {
        defineWorkflow(env, config, lifecycleSource, auditTrailSource, sinks, config.ledgerHeads(), UnaryOperator.identity());
    }

    /**
     * As above, with {@code beforeChainer} applied to the accepted events first (the exactly-once test puts a failing
     * operator there) and an explicit chain-head lookup.
     */
    public static void defineWorkflow(StreamExecutionEnvironment env, AuditJobConfig config,
            Source<InputEnvelope, ?, ?> lifecycleSource, Source<InputEnvelope, ?, ?> auditTrailSource, AuditSinks sinks,
            LedgerHeads ledgerHeads, UnaryOperator<DataStream<InputEnvelope>> beforeChainer) {
        DataStream<InputEnvelope> lifecycle = env
                .fromSource(lifecycleSource, WatermarkStrategy.noWatermarks(), "job-lifecycle source (audit)")
                .uid("audit-lifecycle-source").name("job-lifecycle source (audit)");
        DataStream<InputEnvelope> auditTrail = env
                .fromSource(auditTrailSource, WatermarkStrategy.noWatermarks(), "audit-trail source")
                .uid("audit-trail-source").name("audit-trail source");

        SingleOutputStreamOperator<InputEnvelope> accepted = lifecycle.union(auditTrail)
                .process(new DeadLetterRouting.SplitDeadLetters())
                .uid("audit-split-dead-letters").name("split dead letters (audit)");

        SingleOutputStreamOperator<AuditRecord> entries = beforeChainer.apply(accepted)
                .keyBy(AuditJob::chainIdOf, Types.STRING)
                .process(new AuditChainer(config.chainer(), ledgerHeads), new AvroTypeInfo<>(AuditRecord.class))
                .uid("audit-chainer").name("append to chain (per input partition)");
        entries.sinkTo(sinks.ledger()).uid("audit-ledger-sink").name("audit_events (PostgreSQL, idempotent insert)");

        DataStream<DeadLetter> deadLetters = accepted.getSideOutput(DeadLetterRouting.DEAD_LETTERS)
                .map(new MarkAuditStage(), new AvroTypeInfo<>(DeadLetter.class))
                .uid("audit-mark-dead-letter-stage").name("mark dead letters as the audit job's")
                .union(entries.getSideOutput(DeadLetterRouting.DEAD_LETTERS));
        deadLetters
                .map(new DeadLetterRouting.CountDeadLetters(), new AvroTypeInfo<>(DeadLetter.class))
                .uid("audit-count-dead-letters").name("count dead letters by reason (audit)")
                .sinkTo(sinks.deadLetters()).uid("audit-dead-letter-sink").name("job-events-dlq (Kafka, exactly-once, audit)");
    }

    /** The chain of an envelope: its source topic and partition. */
    static String chainIdOf(InputEnvelope e) {
        return AuditEntries.chainId(e.getSource());
    }

    /**
     * The decoder's dead letters carry stage "deserializer"; the lifecycle job dead-letters the same bad record, so
     * the audit job's copies say "audit-deserializer" to be told apart.
     */
    static final class MarkAuditStage implements MapFunction<DeadLetter, DeadLetter> {
        private static final long serialVersionUID = 1L;

        @Override
        public DeadLetter map(DeadLetter dl) {
            return dl.getStage().startsWith("audit-") ? dl : DeadLetter.newBuilder(dl).setStage("audit-" + dl.getStage()).build();
        }
    }

    /** The job as the CLI and the demo see it. */
    public static final class Definition implements PipelineJob {
        @Override
        public String name() {
            return "audit";
        }

        @Override
        public String jobName() {
            return JOB_NAME;
        }

        @Override
        public Class<?> mainClass() {
            return AuditJob.class;
        }

        @Override
        public List<Option> options() {
            return AuditJobConfig.OPTIONS;
        }

        @Override
        public void define(StreamExecutionEnvironment env, Settings settings) {
            AuditJobConfig config = AuditJobConfig.from(settings);
            PipelineEnvironment.configure(env, config.common());
            Source<InputEnvelope, ?, ?> lifecycle = KafkaInputs
                    .envelopes(config.common(), EventKind.LIFECYCLE, List.of(config.lifecycleTopic()), config.groupId())
                    .build();
            Source<InputEnvelope, ?, ?> auditTrail = KafkaInputs
                    .envelopes(config.common(), EventKind.AUDIT_TRAIL, List.of(config.auditTrailTopic()), config.groupId())
                    .setClientIdPrefix(config.groupId() + "-trail") // one group for both topics; distinct client ids
                    .build();
            defineWorkflow(env, config, lifecycle, auditTrail, AuditSinks.production(config));
        }
    }
}
