package io.cosmichorizons.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.Test;

class InProcessFlinkTest {
    /** The constant is worked out by hand from flink-conf/config.yaml; Flink's own arithmetic keeps it honest. */
    @Test
    void aSlotGetsWhatASlotGetsOnTheClustersTaskManager() {
        Configuration conf = GlobalConfiguration.loadConfiguration(
                Path.of("..", "flink-conf").toAbsolutePath().normalize().toString());
        long managedMb = TaskExecutorProcessUtils.processSpecFromConfig(conf).getManagedMemorySize().getMebiBytes();
        assertEquals(managedMb / conf.get(TaskManagerOptions.NUM_TASK_SLOTS), InProcessFlink.MANAGED_MEMORY_PER_SLOT_MB);
    }
}
