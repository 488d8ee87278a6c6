package io.cosmichorizons.slurm;

import java.util.List;
import java.util.Optional;

/** What the bridge asks Slurm. {@link SlurmCommands} runs the real client commands; unit tests use a scripted fake. */
public interface Slurm {

    /**
     * Every job slurmctld knows, including jobs that ended within MinJobAge ({@code squeue --json}).
     *
     * @throws SlurmUnavailableException when slurmctld cannot be reached or answers with an error
     */
    List<SlurmJob> queue() throws SlurmUnavailableException;

    /**
     * Who cancelled a job, when Slurm keeps that (accounting: {@code sacct} shows "CANCELLED by UID"); empty when it
     * is not known.
     */
    Optional<String> cancelledBy(String jobKey);
}
