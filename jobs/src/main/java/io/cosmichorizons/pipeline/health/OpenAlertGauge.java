package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.AlertType;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;

/**
 * The {@code alertsOpen} gauge (one per {@code alert_type}) of an operator that raises alerts. The counts live in
 * operator state, so they survive a restore; after a rescale the per-subtask counts are spread over the new subtasks,
 * and their sum stays right.
 */
public final class OpenAlertGauge {
    private final long[] open = new long[AlertType.values().length];
    private ListState<Long> checkpointed;

    /** Registers the gauges; call from open(). */
    public void register(MetricGroup group) {
        for (AlertType type : AlertType.values()) {
            group.addGroup("alert_type", type.name()).gauge("alertsOpen", () -> open[type.ordinal()]);
        }
    }

    /** Counts an emitted alert record: +1 when it opens, -1 when it resolves. */
    public void track(Alert alert) {
        int i = alert.getAlertType().ordinal();
        open[i] = Math.max(0, open[i] + (alert.getState() == AlertState.OPEN ? 1 : -1));
    }

    public long open(AlertType type) {
        return open[type.ordinal()];
    }

    /** Call from CheckpointedFunction.initializeState. */
    public void initialize(FunctionInitializationContext context) throws Exception {
        checkpointed = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("alerts-open", Types.LONG));
        java.util.Arrays.fill(open, 0);
        // One entry per type and old subtask: the type's ordinal in the top 16 bits, the count below. A single long
        // per entry, so redistribution on rescale cannot separate a type from its count.
        for (Long entry : checkpointed.get()) {
            int ordinal = (int) (entry >>> 48);
            if (ordinal < open.length) {
                open[ordinal] += entry & ((1L << 48) - 1);
            }
        }
    }

    /** Call from CheckpointedFunction.snapshotState. */
    public void snapshot() throws Exception {
        List<Long> entries = new java.util.ArrayList<>();
        for (int t = 0; t < open.length; t++) {
            if (open[t] > 0) {
                entries.add(((long) t << 48) | open[t]);
            }
        }
        checkpointed.update(entries);
    }
}
