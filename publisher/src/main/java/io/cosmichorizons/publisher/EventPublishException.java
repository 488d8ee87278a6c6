package io.cosmichorizons.publisher;

/**
 * A record that Kafka did not acknowledge: the broker was unreachable until the timeout, or it refused the record.
 * Publishing futures complete exceptionally with it; {@link #getCause()} is the Kafka client's exception.
 */
public class EventPublishException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EventPublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
