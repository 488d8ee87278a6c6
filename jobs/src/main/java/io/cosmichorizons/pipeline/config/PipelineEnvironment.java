package io.cosmichorizons.pipeline.config;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Applies the settings every pipeline job shares to its execution environment. */
public final class PipelineEnvironment {
    private PipelineEnvironment() {}

    public static void configure(StreamExecutionEnvironment env, CommonConfig common) {
        Configuration conf = new Configuration();
        // Every type on the wire and in state is Avro or a Flink basic type; a Kryo fallback is a bug, so fail fast.
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, common.checkpointInterval());
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, common.checkpointTimeout());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (common.checkpointDir() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, common.checkpointDir());
        }
        if (common.useRocksDb()) {
            conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
            conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
            // As on the cluster (flink-conf/config.yaml): point lookups skip the files that cannot hold their key.
            conf.set(RocksDBConfigurableOptions.USE_BLOOM_FILTER, true);
        }
        env.configure(conf);
        env.enableCheckpointing(common.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        env.setMaxParallelism(common.maxParallelism());
        if (common.parallelism() > 0) {
            env.setParallelism(common.parallelism());
        }
    }
}
