package io.cosmichorizons.cli;

import io.cosmichorizons.topics.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons topics create|list}. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Create or list the platform's Kafka topics.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
public final class TopicsCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create every topic the pipelines use (existing ones are left as they are).")
    static final class Create implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Option(names = "--replication-factor", defaultValue = "1", description = "Replication factor (default ${DEFAULT-VALUE}; use 3 in production)")
        short replicationFactor;

        @Option(names = "--input-partitions", description = "Override the partition count of the input topics (default " + Topics.INPUT_PARTITIONS + ")")
        Integer inputPartitions;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = admin(services.bootstrapServers)) {
                for (String line : create(admin, replicationFactor, inputPartitions)) {
                    System.out.println(line);
                }
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the platform's topics and whether they exist.")
    static final class ListTopics implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = admin(services.bootstrapServers)) {
                Set<String> existing = admin.listTopics().names().get();
                for (Topics.TopicSpec spec : Topics.ALL) {
                    System.out.printf("%-26s %-8s %3d partitions  %s%n", spec.name(),
                            existing.contains(spec.name()) ? "exists" : "missing", spec.partitions(), spec.purpose());
                }
            }
            return 0;
        }
    }

    static Admin admin(String bootstrapServers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(p);
    }

    /** Creates the missing topics; returns one line per topic saying what happened. */
    static List<String> create(Admin admin, short replicationFactor, Integer inputPartitions)
            throws InterruptedException, ExecutionException {
        List<String> report = new ArrayList<>();
        for (Topics.TopicSpec spec : Topics.ALL) {
            int partitions = spec.partitions() == Topics.INPUT_PARTITIONS && inputPartitions != null ? inputPartitions : spec.partitions();
            NewTopic topic = new NewTopic(spec.name(), partitions, replicationFactor).configs(Map.copyOf(spec.configs()));
            try {
                admin.createTopics(List.of(topic)).all().get();
                report.add("created  " + spec.name() + " (" + partitions + " partitions) - " + spec.purpose());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    report.add("exists   " + spec.name());
                } else {
                    throw e;
                }
            }
        }
        return report;
    }
}
