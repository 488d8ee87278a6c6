package io.cosmichorizons.pipeline;

import io.cosmichorizons.pipeline.config.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * The pipeline jobs on a Flink MiniCluster in this JVM, with the REST API (and the Web UI when flink-runtime-web is on
 * the classpath): what {@code bin/horizons demo} and {@code bin/horizons bench} run. One TaskManager with enough slots
 * for every job at the given parallelism.
 */
public final class InProcessFlink implements AutoCloseable {
    private final MiniCluster cluster;

    private InProcessFlink(MiniCluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Managed memory per slot: the share a slot gets on the cluster's TaskManager (flink-conf/config.yaml: process
     * 1536m, 4 slots; minus 256m metaspace and 192m overhead leaves 1088m, 40 % of it managed: 435m over 4 slots).
     * The MiniCluster used to get 256m in all, about 21m per slot, which starved RocksDB (tiny write buffers, constant
     * flushes and compactions) and made the in-process RocksDB runs unlike the cluster's.
     */
    public static final int MANAGED_MEMORY_PER_SLOT_MB = 108;

    /**
     * Starts a MiniCluster.
     *
     * @param restPort REST / Web UI port; 0 picks a free one
     * @param checkpointDir where checkpoints go
     * @param slots task slots of the one TaskManager
     */
    public static InProcessFlink start(int restPort, Path checkpointDir, int slots) throws Exception {
        return start(restPort, checkpointDir, slots, MANAGED_MEMORY_PER_SLOT_MB);
    }

    /**
     * Starts a MiniCluster whose slots each get {@code managedMemoryPerSlotMb} of managed memory (RocksDB's block cache
     * and write buffers): a TaskManager sized for larger state.
     */
    public static InProcessFlink start(int restPort, Path checkpointDir, int slots, int managedMemoryPerSlotMb)
            throws Exception {
        if (managedMemoryPerSlotMb < 16) {
            throw new IllegalArgumentException("managed memory per slot must be at least 16 MB, not " + managedMemoryPerSlotMb);
        }
        Configuration conf = new Configuration();
        conf.set(RestOptions.PORT, restPort);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "localhost");
        // RocksDB's block cache and write buffers come out of managed memory, split evenly over the slots.
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes((long) managedMemoryPerSlotMb * slots));
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.ofMebiBytes(128));
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.ofMebiBytes(128));
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        cluster.start();
        return new InProcessFlink(cluster);
    }

    /** Slots enough for every job of {@link PipelineJobs#ALL} at {@code parallelism} (each job's operators share one). */
    public static int slotsFor(int parallelism) {
        return Math.max(4, PipelineJobs.ALL.size() * parallelism * 2);
    }

    public MiniCluster miniCluster() {
        return cluster;
    }

    /** The REST API and Web UI address, e.g. {@code http://localhost:8081}. */
    public String restUrl() throws Exception {
        return "http://localhost:" + cluster.getRestAddress().get().getPort();
    }

    /** Defines {@code job}'s production dataflow with {@code settings} and submits it; returns its id. */
    public JobID submit(PipelineJob job, Settings settings) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        job.define(env, settings);
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(job.jobName());
        return cluster.submitJob(graph).get().getJobID();
    }

    /** Submits each job in order. */
    public List<JobID> submitAll(List<PipelineJob> jobs, Settings settings) throws Exception {
        List<JobID> ids = new ArrayList<>();
        for (PipelineJob job : jobs) {
            ids.add(submit(job, settings));
        }
        return ids;
    }

    /** Cancels a job and waits until it has ended. */
    public void cancel(JobID id) throws Exception {
        cluster.cancelJob(id).get(60, TimeUnit.SECONDS);
        cluster.requestJobResult(id).get(120, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        cluster.closeAsync().get(60, TimeUnit.SECONDS);
    }
}
