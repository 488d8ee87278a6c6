package io.cosmichorizons.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cosmichorizons.generator.GeneratorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkloadsTest {
    @ParameterizedTest
    @ValueSource(doubles = {10.0, 25.0})
    void theSoakIntervalGivesTheAskedRecordsPerJob(double target) {
        GeneratorConfig.Builder mix = Workloads.mix("localhost:9092", new BenchStack.TopicSet("t-"));
        int interval = Workloads.metricsIntervalFor(mix, target).seconds();
        double records = Workloads.recordsPerJob(mix.metricsIntervalSeconds(interval));
        assertEquals(target, records, 0.02 * target, "interval " + interval + " s gives " + records + " records per job");
    }
}
