package io.cosmichorizons.pipeline.io;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.serde.EventKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead letters from every stage take one path: a side output, a counter per reason, and a transactional Kafka sink
 * that keeps the original key, so nothing bad vanishes and nothing is reported twice after a restore.
 */
public final class DeadLetterRouting {
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private DeadLetterRouting() {}

    /** Sends envelopes that carry a dead letter to {@link #DEAD_LETTERS}; counts accepted events by type. */
    public static final class SplitDeadLetters extends ProcessFunction<InputEnvelope, InputEnvelope> {
        private static final long serialVersionUID = 1L;
        private transient Map<String, Counter> eventsIn;
        private transient MetricGroup metrics;

        @Override
        public void open(OpenContext openContext) {
            eventsIn = new HashMap<>();
            metrics = getRuntimeContext().getMetricGroup();
        }

        @Override
        public void processElement(InputEnvelope envelope, Context ctx, Collector<InputEnvelope> out) {
            if (envelope.getDeadLetter() != null) {
                ctx.output(DEAD_LETTERS, envelope.getDeadLetter());
                return;
            }
            SpecificRecord event = (SpecificRecord) envelope.getEvent();
            String type = EventKind.of(event) == EventKind.AUDIT_TRAIL ? "AUDIT_TRAIL" : EventKind.of(event).typeOf(event);
            eventsIn.computeIfAbsent(type, t -> metrics.addGroup("event_type", t).counter("eventsIn")).inc();
            out.collect(envelope);
        }
    }

    /** Counts dead letters per reason ({@code deadLetters} with a {@code reason} label) on their way to the sink. */
    public static final class CountDeadLetters extends RichMapFunction<DeadLetter, DeadLetter> {
        private static final long serialVersionUID = 1L;
        private transient Map<DeadLetterReason, Counter> byReason;

        @Override
        public void open(OpenContext openContext) {
            byReason = new EnumMap<>(DeadLetterReason.class);
            MetricGroup group = getRuntimeContext().getMetricGroup();
            for (DeadLetterReason reason : DeadLetterReason.values()) {
                byReason.put(reason, group.addGroup("reason", reason.name()).counter("deadLetters"));
            }
        }

        @Override
        public DeadLetter map(DeadLetter deadLetter) {
            byReason.get(deadLetter.getReason()).inc();
            return deadLetter;
        }
    }

    /** Keeps the original key, so a replayed dead letter lands on the partition its job_id maps to. */
    static final class DeadLetterSerializer extends AvroRecordSerializer<DeadLetter> {
        private static final long serialVersionUID = 1L;

        DeadLetterSerializer(String topic) {
            super(topic, dl -> copy(dl.getSource().getKey()));
        }

        @Override
        protected void addHeaders(DeadLetter dl, RecordHeaders headers) {
            headers.add("reason", dl.getReason().name().getBytes(StandardCharsets.UTF_8));
            headers.add("stage", dl.getStage().getBytes(StandardCharsets.UTF_8));
            headers.add("source_topic", dl.getSource().getTopic().getBytes(StandardCharsets.UTF_8));
        }

        private static byte[] copy(ByteBuffer buffer) {
            if (buffer == null) {
                return null;
            }
            ByteBuffer b = buffer.duplicate();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return bytes;
        }
    }

    public static KafkaSink<DeadLetter> sink(CommonConfig common, String transactionalIdPrefix) {
        return KafkaOutputs.exactlyOnce(common, new DeadLetterSerializer(common.deadLetterTopic()), transactionalIdPrefix);
    }
}
