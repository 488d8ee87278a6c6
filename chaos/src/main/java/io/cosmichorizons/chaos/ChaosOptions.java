package io.cosmichorizons.chaos;

import java.time.Duration;

/**
 * What a chaos run does.
 *
 * @param jobs generated jobs (about 6 records each with {@code metricsIntervalSeconds} 900)
 * @param rate events per second the generator publishes
 * @param taskManagerKills kill -9 a TaskManager right after each of this many completed checkpoints, each time
 *     starting a replacement
 * @param killJobManager kill -9 the JobManager once, then restart the cluster and resubmit from the latest retained
 *     checkpoint, as the runbook says
 * @param kafkaOutage stop the Kafka broker this long, then restart it (null: no Kafka fault)
 * @param postgresOutage stop PostgreSQL this long, then restart it (null: no PostgreSQL fault)
 * @param fuzzRecords broken records sent across all input topics, interleaved with the workload
 * @param rescale stop with a savepoint and resubmit at parallelism 2, then again at 1 (the run starts at 1)
 */
public record ChaosOptions(int jobs, double rate, long seed, int metricsIntervalSeconds, int taskManagerKills,
        boolean killJobManager, Duration kafkaOutage, Duration postgresOutage, int fuzzRecords, boolean rescale,
        Duration checkpointInterval) {

    /** The CI run: 20,000 events, one TaskManager kill, the PostgreSQL bounce, and a little fuzzing. */
    public static ChaosOptions shortRun() {
        return new ChaosOptions(3_400, 250, 7L, 900, 1, false, null, Duration.ofSeconds(20), 2_000, false,
                Duration.ofSeconds(1));
    }

    /** Everything issue 7 asks for: over 200,000 events, every fault, 100,000 fuzzed records, rescaling 1-2-1. */
    public static ChaosOptions full() {
        return new ChaosOptions(35_000, 500, 7L, 900, 3, true, Duration.ofSeconds(20), Duration.ofSeconds(20), 100_000,
                true, Duration.ofSeconds(1));
    }

    public int initialParallelism() {
        return rescale ? 1 : 2;
    }
}
