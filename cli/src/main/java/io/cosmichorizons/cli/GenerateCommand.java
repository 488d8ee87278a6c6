package io.cosmichorizons.cli;

import io.cosmichorizons.generator.GenerationProgress;
import io.cosmichorizons.generator.GenerationSummary;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruthSink;
import io.cosmichorizons.generator.GroundTruthWriter;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons generate}: publish a deterministic synthetic workload. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publish a realistic synthetic workload: lifecycles, metrics samples, audit actions and",
                "notification preferences, optionally with duplicates, out-of-order and malformed records.",
                "The same --seed and --start give byte-identical records."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ServiceOptions services;

    @Option(names = "--jobs", defaultValue = "1000", description = "Number of jobs (default ${DEFAULT-VALUE})")
    int jobs;

    @Option(names = "--users", defaultValue = "50", description = "Number of users (default ${DEFAULT-VALUE})")
    int users;

    @Option(names = "--rate", defaultValue = "0", description = "Records per second; 0 = as fast as possible (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--format", defaultValue = "avro", description = "Wire format: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    WireFormat format;

    @Option(names = "--start", paramLabel = "TIME",
            description = "Event time of the first submission: an ISO instant or a duration ago (default 4d: every event lies in the past, as brokers reject timestamps more than 1h ahead)")
    String start;

    @Option(names = "--window", defaultValue = "1h", description = "Submissions are spread over this much event time (default ${DEFAULT-VALUE})")
    String window;

    @Option(names = "--metrics-interval", defaultValue = "60", description = "Seconds of run time between metrics samples (default ${DEFAULT-VALUE})")
    int metricsInterval;

    @Option(names = "--inject", paramLabel = "KIND=RATE[,...]",
            description = "Inject bad input, e.g. duplicates=0.01,out-of-order=0.02,malformed=0.005")
    String inject;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix for the input topic names (default none)")
    String topicPrefix;

    @Option(names = "--ground-truth", paramLabel = "FILE", description = "Write every job's expected outcome and the injected records to FILE (JSON lines)")
    Path groundTruth;

    @Override
    public Integer call() throws Exception {
        GeneratorConfig config = config(services.bootstrapServers);
        System.out.printf("Generating %d jobs (seed %d, %s, %s) to %s ...%n", config.jobs(), config.seed(), config.format(),
                rate > 0 ? rate + " records/s" : "full speed", services.bootstrapServers);
        WorkloadGenerator generator = new WorkloadGenerator(config).onProgress(GenerateCommand::printProgress);
        GenerationSummary summary;
        if (groundTruth != null) {
            try (GroundTruthWriter writer = new GroundTruthWriter(groundTruth)) {
                summary = generator.run(writer);
            }
        } else {
            summary = generator.run(GroundTruthSink.discard());
        }
        System.out.println();
        printSummary(summary);
        if (groundTruth != null) {
            System.out.println("Ground truth: " + groundTruth.toAbsolutePath());
        }
        return 0;
    }

    GeneratorConfig config(String bootstrapServers) {
        return GeneratorConfig.builder()
                .bootstrapServers(bootstrapServers)
                .topics(TopicNames.defaults().withPrefix(topicPrefix))
                .format(format)
                .jobs(jobs)
                .users(users)
                .seed(seed)
                .startTime(start == null ? null : DlqCommand.parseTime(start))
                .submissionWindow(Settings.parseDuration(window))
                .rate(rate)
                .metricsIntervalSeconds(metricsInterval)
                .inject(parseInjection(inject))
                .build();
    }

    static GeneratorConfig.Injection parseInjection(String spec) {
        if (spec == null || spec.isBlank()) {
            return GeneratorConfig.Injection.none();
        }
        double duplicates = 0;
        double outOfOrder = 0;
        double malformed = 0;
        for (String part : spec.split(",")) {
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("--inject takes KIND=RATE pairs, got '" + part + "'");
            }
            double value = Double.parseDouble(kv[1].strip());
            switch (kv[0].strip()) {
                case "duplicates" -> duplicates = value;
                case "out-of-order" -> outOfOrder = value;
                case "malformed" -> malformed = value;
                default -> throw new IllegalArgumentException("Unknown injection '" + kv[0] + "'; use duplicates, out-of-order or malformed");
            }
        }
        return new GeneratorConfig.Injection(duplicates, outOfOrder, malformed);
    }

    static void printProgress(GenerationProgress p) {
        System.out.printf("\r  sent %,d / %,d (%.0f%%)  %,.0f records/s  ETA %s   ", p.sent(), p.total(),
                p.total() == 0 ? 100.0 : 100.0 * p.sent() / p.total(), p.ratePerSecond(),
                p.eta() == null ? "-" : p.eta().toSeconds() + " s");
    }

    static void printSummary(GenerationSummary s) {
        System.out.printf("Published %,d records in %.1f s (%,.0f records/s)%n", s.records(), s.elapsed().toMillis() / 1000.0, s.ratePerSecond());
        s.recordsPerTopic().forEach((topic, n) -> System.out.printf("  %-32s %,d%n", topic, n));
        if (!s.injectedPerKind().isEmpty()) {
            System.out.println("Injected: " + s.injectedPerKind());
        }
    }
}
