package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertType;
import io.cosmichorizons.events.internal.InputHealthState;
import io.cosmichorizons.events.internal.InputMinute;
import io.cosmichorizons.events.internal.InputTally;
import io.cosmichorizons.pipeline.state.SortedEntries;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The health of one input topic (keyed by topic name), from a tally of every record read and every record
 * dead-lettered:
 *
 * <ul>
 *   <li>DEAD_LETTER_RATE: dead letters / records over a sliding event-time window of whole minutes, with a minimum
 *       volume and hysteresis ({@link RateRule}), evaluated when each minute closes;
 *   <li>EVENT_TIME_LAG: wall clock minus the newest event time read in the last check interval;
 *   <li>WATERMARK_LAG: wall clock minus this operator's watermark.
 * </ul>
 *
 * Lag is about the live pipeline, so its checks run on processing-time timers while records flow and its alert
 * records carry wall-clock times (they are the one kind of output that a replay does not reproduce). A check interval
 * without records resolves the lag alerts: the input is drained, and a source that stalls with records pending is the
 * Prometheus consumer-lag rule's case (deploy/prometheus/alerts.yml).
 */
public class InputHealthMonitor extends KeyedProcessFunction<String, InputTally, Alert> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private static final long MINUTE = 60_000;

    /** The knobs; defaults are documented in MetricsJobConfig. */
    public record Settings(RateRule deadLetterRule, Duration deadLetterWindow, Duration lagCheckInterval,
            Duration eventTimeLagThreshold, Duration watermarkLagThreshold) implements Serializable {}

    private final Settings settings;

    private transient ValueState<InputHealthState> state;
    private transient MapState<String, Alert> openAlerts;
    private transient OpenAlertGauge gauge;
    private transient Counter lateTallies;
    private transient String topic;

    public InputHealthMonitor(Settings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>("input-health", new AvroTypeInfo<>(InputHealthState.class)));
        openAlerts = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("input-alerts", Types.STRING, new AvroTypeInfo<>(Alert.class)));
        gauge.register(getRuntimeContext().getMetricGroup());
        lateTallies = getRuntimeContext().getMetricGroup().counter("lateInputTallies");
    }

    @Override
    public void processElement(InputTally tally, Context ctx, Collector<Alert> out) throws Exception {
        topic = ctx.getCurrentKey();
        InputHealthState s = state.value();
        if (s == null) {
            s = InputHealthState.newBuilder().setMinutes(new ArrayList<>()).build();
        } else {
            s.setMinutes(new ArrayList<>(s.getMinutes()));
        }
        long at = ctx.timestamp() == null ? ctx.timerService().currentProcessingTime() : ctx.timestamp();
        long minute = Math.floorDiv(at, MINUTE) * MINUTE;
        if (minute <= s.getLastClosedMinute()) {
            // The minute was already evaluated: count the record in the next open one rather than lose it.
            lateTallies.inc();
            minute = s.getLastClosedMinute() + MINUTE;
        }
        InputMinute m = minute(s, minute);
        m.setRecords(m.getRecords() + tally.getRecords());
        m.setRejected(m.getRejected() + tally.getRejected());
        ctx.timerService().registerEventTimeTimer(minute + MINUTE - 1);

        if (tally.getRecords() > 0) {
            s.setIntervalRecords(s.getIntervalRecords() + tally.getRecords());
            s.setIntervalMaxEventTime(Math.max(s.getIntervalMaxEventTime(), at));
        }
        if (s.getLagTimer() < 0) {
            long check = ctx.timerService().currentProcessingTime() + settings.lagCheckInterval().toMillis();
            ctx.timerService().registerProcessingTimeTimer(check);
            s.setLagTimer(check);
        }
        state.update(s);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        topic = ctx.getCurrentKey();
        InputHealthState s = state.value();
        if (s == null) {
            return;
        }
        s.setMinutes(new ArrayList<>(s.getMinutes()));
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            closeMinutes(s, timestamp, out);
            Long next = nextToClose(s);
            if (next != null) {
                ctx.timerService().registerEventTimeTimer(next + MINUTE - 1);
            }
        } else if (timestamp == s.getLagTimer()) {
            checkLag(s, timestamp, ctx.timerService().currentWatermark(), out);
            if (s.getIntervalRecords() > 0 || hasOpenLagAlert()) {
                s.setIntervalRecords(0L);
                s.setIntervalMaxEventTime(Long.MIN_VALUE);
                long check = timestamp + settings.lagCheckInterval().toMillis();
                ctx.timerService().registerProcessingTimeTimer(check);
                s.setLagTimer(check);
            } else {
                s.setLagTimer(-1L);
            }
        }
        if (s.getMinutes().isEmpty() && s.getLagTimer() < 0 && openAlerts.isEmpty()) {
            state.clear();
        } else {
            state.update(s);
        }
    }

    // ------------------------------------------------------------------------------------------ dead-letter rate

    private void closeMinutes(InputHealthState s, long upTo, Collector<Alert> out) throws Exception {
        Long next;
        while ((next = nextToClose(s)) != null && next + MINUTE - 1 <= upTo) {
            InputMinute m = minute(s, next);
            m.setClosed(true);
            s.setLastClosedMinute(next);
            long windowStart = next + MINUTE - settings.deadLetterWindow().toMillis();
            s.getMinutes().removeIf(x -> x.getClosed() && x.getMinuteStart() < windowStart);
            long records = 0;
            long rejected = 0;
            for (InputMinute x : s.getMinutes()) {
                if (x.getClosed()) {
                    records += x.getRecords();
                    rejected += x.getRejected();
                }
            }
            evaluateDeadLetterRate(next + MINUTE, records, rejected, out);
            // A closed minute without records keeps nothing: drop it once evaluated.
            s.getMinutes().removeIf(x -> x.getClosed() && x.getRecords() == 0 && x.getRejected() == 0);
        }
    }

    /** The next minute to evaluate: the earliest open one, or the one after the last closed while the window is not empty. */
    private Long nextToClose(InputHealthState s) throws Exception {
        Long earliestOpen = null;
        boolean windowHasData = false;
        for (InputMinute m : s.getMinutes()) {
            if (!m.getClosed() && earliestOpen == null) {
                earliestOpen = m.getMinuteStart();
            }
            windowHasData |= m.getClosed();
        }
        boolean active = windowHasData || openAlerts.contains(AlertType.DEAD_LETTER_RATE.name());
        // The window runs out by itself, so this continues at the end of a bounded input too.
        if (active && s.getLastClosedMinute() != Long.MIN_VALUE) {
            long following = s.getLastClosedMinute() + MINUTE;
            return earliestOpen == null ? following : Math.min(following, earliestOpen);
        }
        return earliestOpen;
    }

    private void evaluateDeadLetterRate(long at, long records, long rejected, Collector<Alert> out) throws Exception {
        RateRule rule = settings.deadLetterRule();
        Alert open = openAlerts.get(AlertType.DEAD_LETTER_RATE.name());
        double rate = RateRule.rate(rejected, records);
        String window = settings.deadLetterWindow().toMinutes() + " min";
        switch (rule.decide(open != null, rejected, records)) {
            case OPEN -> {
                Alert alert = Alerts.open(AlertType.DEAD_LETTER_RATE, topic, null, at, at, String.format(Locale.ROOT,
                        "%.1f %% of the records of %s in the last %s were dead-lettered (%d of %d)", 100 * rate, topic,
                        window, rejected, records), rate, rule.openAt());
                openAlerts.put(AlertType.DEAD_LETTER_RATE.name(), alert);
                emit(alert, out);
            }
            case RESOLVE -> {
                emit(Alerts.resolve(open, at, String.format(Locale.ROOT,
                        "The dead-letter rate of %s fell to %.1f %% over the last %s (%d of %d)", topic, 100 * rate,
                        window, rejected, records), rate), out);
                openAlerts.remove(AlertType.DEAD_LETTER_RATE.name());
            }
            case KEEP -> {
                // unchanged
            }
        }
    }

    private static InputMinute minute(InputHealthState s, long start) {
        return SortedEntries.findOrInsert(s.getMinutes(), start, InputMinute::getMinuteStart,
                at -> InputMinute.newBuilder().setMinuteStart(at).build());
    }

    // ------------------------------------------------------------------------------------------ lag

    private void checkLag(InputHealthState s, long now, long watermark, Collector<Alert> out) throws Exception {
        if (s.getIntervalRecords() == 0) {
            for (AlertType type : new AlertType[] {AlertType.EVENT_TIME_LAG, AlertType.WATERMARK_LAG}) {
                Alert open = openAlerts.get(type.name());
                if (open != null) {
                    emit(Alerts.resolve(open, now, "No records from " + topic + " in the last check interval: the input is drained", null), out);
                    openAlerts.remove(type.name());
                }
            }
            return;
        }
        evaluateLag(AlertType.EVENT_TIME_LAG, now, now - s.getIntervalMaxEventTime(), settings.eventTimeLagThreshold(),
                "the newest event read from " + topic, out);
        if (watermark != Long.MIN_VALUE) {
            evaluateLag(AlertType.WATERMARK_LAG, now, now - watermark, settings.watermarkLagThreshold(),
                    "the watermark of the " + topic + " monitor", out);
        }
    }

    /** Opens above the threshold; resolves below half of it (hysteresis). */
    private void evaluateLag(AlertType type, long now, long lag, Duration threshold, String what, Collector<Alert> out)
            throws Exception {
        Alert open = openAlerts.get(type.name());
        if (open == null && lag > threshold.toMillis()) {
            Alert alert = Alerts.open(type, topic, null, now, now, "Processing is " + Alerts.minutes(lag) + " behind "
                    + what + " (threshold " + Alerts.minutes(threshold.toMillis()) + ")", (double) lag, (double) threshold.toMillis());
            openAlerts.put(type.name(), alert);
            emit(alert, out);
        } else if (open != null && lag < threshold.toMillis() / 2) {
            emit(Alerts.resolve(open, now, "Processing caught up: " + Alerts.minutes(lag) + " behind " + what, (double) lag), out);
            openAlerts.remove(type.name());
        }
    }

    private boolean hasOpenLagAlert() throws Exception {
        return openAlerts.contains(AlertType.EVENT_TIME_LAG.name()) || openAlerts.contains(AlertType.WATERMARK_LAG.name());
    }

    private void emit(Alert alert, Collector<Alert> out) {
        gauge.track(alert);
        out.collect(alert);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        gauge.snapshot();
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        gauge = new OpenAlertGauge();
        gauge.initialize(context);
    }
}
