package io.cosmichorizons.publisher;

import io.cosmichorizons.events.DeadLetterReason;

/**
 * An event the publisher refused to send because it breaks its contract. The message names the field and the rule;
 * {@link #reason()} is the dead-letter reason the pipeline would have given the record. Nothing was sent.
 */
public class InvalidEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final DeadLetterReason reason;

    public InvalidEventException(DeadLetterReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** The dead-letter reason the pipeline would assign to this event. */
    public DeadLetterReason reason() {
        return reason;
    }
}
