package io.cosmichorizons.pipeline.health;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.events.internal.InputTally;
import org.apache.flink.api.common.functions.MapFunction;

/** Turns input records and dead letters into {@link InputTally}s for the {@link InputHealthMonitor}. */
public final class InputTallies {
    private InputTallies() {}

    /** One input record (accepted or rejected by the decoder). */
    public static final class OfInput implements MapFunction<InputEnvelope, InputTally> {
        private static final long serialVersionUID = 1L;

        @Override
        public InputTally map(InputEnvelope e) {
            return new InputTally(e.getSource().getTopic(), 1, e.getDeadLetter() == null ? 0 : 1);
        }
    }

    /** A dead letter. {@code counted}: its record was already tallied as input (decoder rejects). */
    public static final class OfDeadLetter implements MapFunction<DeadLetter, InputTally> {
        private static final long serialVersionUID = 1L;
        private final boolean counted;

        public OfDeadLetter(boolean counted) {
            this.counted = counted;
        }

        @Override
        public InputTally map(DeadLetter dl) {
            return new InputTally(dl.getSource().getTopic(), counted ? 1 : 0, 1);
        }
    }
}
