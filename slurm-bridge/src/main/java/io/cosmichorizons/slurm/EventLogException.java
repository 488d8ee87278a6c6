package io.cosmichorizons.slurm;

/** The event log (Kafka) did not answer or did not acknowledge a publication. */
public final class EventLogException extends Exception {
    private static final long serialVersionUID = 1L;

    public EventLogException(String message, Throwable cause) {
        super(message, cause);
    }
}
