package io.cosmichorizons.serde;

import io.cosmichorizons.events.DeadLetterReason;

/** A record that cannot be accepted, with the dead-letter reason it maps to. */
public class RejectedRecordException extends Exception {
    private final DeadLetterReason reason;

    public RejectedRecordException(DeadLetterReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RejectedRecordException(DeadLetterReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
