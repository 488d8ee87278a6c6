package io.cosmichorizons.pipeline.testing;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.TopicReader;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.waiting.Poll;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * One isolated copy of the platform's topics (with a unique prefix) and a fresh, migrated PostgreSQL database on the
 * suite's real broker and server, plus the settings that point a job at them.
 */
public final class TestStack {
    public final String prefix;
    public final String jdbcUrl;
    public final TopicNames inputs;

    private TestStack(String prefix, String jdbcUrl) {
        this.prefix = prefix;
        this.jdbcUrl = jdbcUrl;
        this.inputs = TopicNames.defaults().withPrefix(prefix);
    }

    public static TestStack create(String name) throws SQLException {
        String prefix = RealServices.uniqueName(name) + ".";
        for (Topics.TopicSpec spec : Topics.ALL) {
            RealServices.createTopic(prefix + spec.name(), spec.partitions(), Map.copyOf(spec.configs()));
        }
        String jdbcUrl = RealServices.freshDatabase(name.replace('-', '_'));
        Migrations.migrate(jdbcUrl, line -> {});
        return new TestStack(prefix, jdbcUrl);
    }

    public String topic(String defaultName) {
        return prefix + defaultName;
    }

    /** Settings that point a job at this stack: fast checkpoints, parallelism 2. */
    public Settings settings() {
        return Settings.of(Map.of(
                Settings.KAFKA_BOOTSTRAP_SERVERS, RealServices.bootstrapServers(),
                Settings.JDBC_URL, jdbcUrl,
                "topics.lifecycle", topic(Topics.JOB_LIFECYCLE),
                "topics.notifications", topic(Topics.JOB_NOTIFICATIONS),
                "topics.preferences", topic(Topics.NOTIFICATION_PREFERENCES),
                "topics.dead-letters", topic(Topics.DEAD_LETTERS),
                "lifecycle.group-id", prefix + "lifecycle",
                "checkpoint.interval", "200ms",
                "parallelism", "2",
                "jdbc.batch-interval", "50ms"));
    }

    public GeneratorConfig.Builder workload(int jobs, long seed) {
        return GeneratorConfig.builder()
                .bootstrapServers(RealServices.bootstrapServers())
                .topics(inputs)
                .jobs(jobs)
                .seed(seed)
                .submissionWindow(Duration.ofMinutes(60));
    }

    /** Publishes the workload and returns its ground truth. */
    public static GroundTruth publish(GeneratorConfig config) {
        GroundTruth.Collector truth = GroundTruth.collector();
        new WorkloadGenerator(config).run(truth);
        return truth.result();
    }

    /** Where this stack's outputs are, for the output comparison. */
    public OutputSnapshot.Location location() {
        return new OutputSnapshot.Location(jdbcUrl, RealServices.bootstrapServers(), prefix);
    }

    /** Every output of this stack, read now (audit MACs unchecked: PostgreSQL's audit_verify checks hashes and links). */
    public OutputSnapshot outputs() throws SQLException {
        return OutputSnapshot.read(location(), null);
    }

    public List<DeadLetter> deadLetters() {
        return readAll(topic(Topics.DEAD_LETTERS), DeadLetter.class, DeadLetter.getClassSchema());
    }

    /** Every committed record of an output topic, decoded. */
    public static <T extends SpecificRecord> List<T> readAll(String topic, Class<T> type, Schema schema) {
        List<T> out = new ArrayList<>();
        TopicReader.readAll(RealServices.bootstrapServers(), topic, Duration.ofSeconds(60), r -> {
            try {
                out.add(AvroCodec.decode(r.value(), type, schema));
            } catch (RejectedRecordException e) {
                throw new AssertionError("Output record is not a " + type.getSimpleName() + ": " + e.getMessage());
            }
        });
        return out;
    }

    /** Waits until {@code condition} holds, failing with {@code what} after the deadline. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        if (!Poll.until(timeout, Duration.ofMillis(250), condition)) {
            throw new AssertionError((Thread.currentThread().isInterrupted() ? "Interrupted" : "Timed out after " + timeout)
                    + " waiting for " + what);
        }
    }
}
