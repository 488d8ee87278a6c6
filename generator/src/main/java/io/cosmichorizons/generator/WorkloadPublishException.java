package io.cosmichorizons.generator;

/** Some records of a workload were not acknowledged by Kafka; the cause is the first failure. */
public class WorkloadPublishException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long failed;

    public WorkloadPublishException(String message, long failed, Throwable cause) {
        super(message, cause);
        this.failed = failed;
    }

    /** How many records failed. */
    public long failed() {
        return failed;
    }
}
