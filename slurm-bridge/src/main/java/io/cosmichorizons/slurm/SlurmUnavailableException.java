package io.cosmichorizons.slurm;

/** slurmctld could not be asked: not running, unreachable, or the client command failed or timed out. */
public final class SlurmUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public SlurmUnavailableException(String message) {
        super(message);
    }

    public SlurmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
