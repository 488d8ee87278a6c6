package io.cosmichorizons.cli;

import io.cosmichorizons.events.DeadLetter;
import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.generator.GenerationProgress;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.GroundTruthSink;
import io.cosmichorizons.generator.WorkloadGenerator;
import io.cosmichorizons.pipeline.InProcessFlink;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.pipeline.io.db.Migrations;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import io.cosmichorizons.testbed.Ports;
import io.cosmichorizons.testbed.Services;
import io.cosmichorizons.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code horizons demo}: the whole pipeline on one machine. Embedded Kafka and PostgreSQL (or external ones), every
 * pipeline job on a MiniCluster with the Flink Web UI, and the generator feeding it, with a live summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline locally: Kafka, PostgreSQL, every Flink job on a MiniCluster with the",
                "Web UI, and the event generator. Prints a live summary; Ctrl-C stops everything cleanly."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--duration", paramLabel = "DURATION", description = "Stop by itself after the pipeline has run this long, e.g. 60s or 10m (default: run until Ctrl-C)")
    String duration;

    @Option(names = "--jobs", defaultValue = "20000", description = "Jobs the generator simulates (default ${DEFAULT-VALUE})")
    int jobs;

    @Option(names = "--rate", defaultValue = "1000", description = "Generator records per second (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--seed", defaultValue = "1", description = "Generator seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--inject", defaultValue = "duplicates=0.005,out-of-order=0.01,malformed=0.005",
            description = "Bad input to inject so the dead-letter path has something to show (default ${DEFAULT-VALUE}; \"\" for none)")
    String inject;

    @Option(names = "--web-port", defaultValue = "8081", description = "Flink Web UI and REST port (default ${DEFAULT-VALUE})")
    int webPort;

    @Option(names = "--checkpoint-interval", defaultValue = "1s", description = "Exactly-once checkpoint interval (default ${DEFAULT-VALUE})")
    String checkpointInterval;

    @Option(names = "--parallelism", defaultValue = "2", description = "Parallelism of each job (default ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--summary-every", defaultValue = "5s", description = "How often to print the live summary (default ${DEFAULT-VALUE})")
    String summaryEvery;

    @Mixin
    ServiceOptions.EmbeddedByDefault external = new ServiceOptions.EmbeddedByDefault();

    @Option(names = "--kafka-port", defaultValue = "9092", description = "Port of the embedded broker, if free (default ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--postgres-port", defaultValue = "5432", description = "Port of the embedded PostgreSQL, if free (default ${DEFAULT-VALUE})")
    int postgresPort;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Keep Kafka, PostgreSQL and checkpoint data here (default: a temporary directory, deleted on exit)")
    Path dataDir;

    @Option(names = "--slurm", description = "Feed the pipeline real sbatch jobs from a local single-node Slurm (deploy/slurm/local-slurm.sh) through the Slurm bridge, instead of the generator")
    boolean slurm;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private InProcessFlink inProcessFlink;
    private final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public Integer call() throws Exception {
        Instant started = Instant.now();
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            System.out.println("\nStopping (Ctrl-C) ...");
            stop.countDown();
            shutdown();
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(started, stop);
        } finally {
            shutdown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook is running.
            }
        }
    }

    private int run(Instant started, CountDownLatch stop) throws Exception {
        Path data = dataDir != null ? dataDir : Files.createTempDirectory("horizons-demo");
        System.out.println("Starting Kafka and PostgreSQL ...");
        Services services = Services.builder()
                .bootstrapServers(external.bootstrapServers)
                .jdbcUrl(external.jdbcUrl)
                .kafkaPort(Ports.preferredOrFree(kafkaPort))
                .postgresPort(Ports.preferredOrFree(postgresPort))
                .dataDirectory(data)
                .keepData(dataDir != null)
                .start();
        toClose.add(services);
        services.summary().forEach(line -> System.out.println("  " + line));

        try (var admin = TopicsCommand.admin(services.bootstrapServers())) {
            TopicsCommand.create(admin, (short) 1, null);
        }
        List<Migrations.Migration> applied = Migrations.migrate(services.jdbcUrl(), line -> {});
        System.out.println("  Topics ready; " + applied.size() + " migration(s) applied");

        MiniCluster flink = startFlink(data);
        String webUi = "http://localhost:" + flink.getRestAddress().get().getPort();
        System.out.println("Flink Web UI: " + webUi);

        Settings settings = Settings.of(Map.of(
                Settings.KAFKA_BOOTSTRAP_SERVERS, services.bootstrapServers(),
                Settings.JDBC_URL, services.jdbcUrl(),
                "checkpoint.interval", checkpointInterval,
                "parallelism", String.valueOf(parallelism)));
        List<JobID> jobIds = new ArrayList<>();
        for (PipelineJob job : PipelineJobs.ALL) {
            jobIds.add(inProcessFlink.submit(job, settings));
            System.out.println("  submitted " + job.jobName());
        }
        var dashboard = DashboardCommand.startForDemo(services.bootstrapServers(), services.jdbcUrl(), webUi, 8090);
        toClose.add(dashboard);
        System.out.println("Dashboard: " + dashboard.url());

        AtomicReference<GenerationProgress> progress = new AtomicReference<>();
        AtomicReference<Throwable> generatorFailure = new AtomicReference<>();
        GeneratorConfig workload = GeneratorConfig.builder()
                .bootstrapServers(services.bootstrapServers())
                .topics(TopicNames.defaults())
                .format(WireFormat.AVRO)
                .jobs(jobs)
                .seed(seed)
                .rate(rate)
                .inject(GenerateCommand.parseInjection(inject))
                .build();
        Thread generator = new Thread(() -> {
            try {
                new WorkloadGenerator(workload).onProgress(progress::set).run(GroundTruthSink.discard());
            } catch (Throwable t) {
                generatorFailure.set(t);
            }
        }, "demo-generator");
        generator.setDaemon(true);
        SlurmDemo slurmDemo = slurm ? SlurmDemo.start(services.bootstrapServers(), data) : null;
        if (slurmDemo != null) {
            toClose.add(slurmDemo);
        } else {
            generator.start();
            System.out.printf("Generator: %,d jobs at %,.0f records/s%n%n", jobs, rate);
        }

        Duration limit = duration == null ? null : Settings.parseDuration(duration);
        // --duration counts from here, once everything runs: startup time varies a lot with the machine's load.
        Instant pipelineRunning = Instant.now();
        Duration every = Settings.parseDuration(summaryEvery);
        LiveSummary summary = new LiveSummary(services, webUi, flink);
        toClose.add(summary);
        while (true) {
            boolean stopped = stop.await(every.toMillis(), TimeUnit.MILLISECONDS);
            if (stopped) {
                return 0;
            }
            summary.print(Duration.between(started, Instant.now()), progress.get(), generatorFailure.get());
            if (slurmDemo != null) {
                System.out.println("       slurm " + slurmDemo.status());
            }
            if (limit != null && Duration.between(pipelineRunning, Instant.now()).compareTo(limit) >= 0) {
                System.out.println("\nDuration reached; stopping.");
                summary.printFinal();
                return summary.processedEvents() > 0 ? 0 : 1;
            }
        }
    }

    private MiniCluster startFlink(Path data) throws Exception {
        InProcessFlink flink = InProcessFlink.start(webPort, data.resolve("checkpoints"), InProcessFlink.slotsFor(parallelism));
        toClose.add(flink);
        inProcessFlink = flink;
        return flink.miniCluster();
    }

    private void shutdown() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                System.err.println("While stopping: " + e.getMessage());
            }
        }
    }

    /** The periodic summary: input rate, jobs by status, notifications, dead letters by reason, Flink jobs. */
    static final class LiveSummary implements AutoCloseable {
        private final Services services;
        private final String webUi;
        private final MiniCluster flink;
        private final KafkaConsumer<byte[], byte[]> deadLetterConsumer;
        /** Dead letters per pipeline job (each job dead-letters what it rejects, so a bad record can count twice). */
        private final Map<String, Map<DeadLetterReason, Long>> deadLetters = new TreeMap<>();
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        private int webUiProbes;
        private int webUiAnswers;
        private long processed;

        LiveSummary(Services services, String webUi, MiniCluster flink) {
            this.services = services;
            this.webUi = webUi;
            this.flink = flink;
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, services.bootstrapServers());
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            this.deadLetterConsumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = deadLetterConsumer.partitionsFor(Topics.DEAD_LETTERS).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            deadLetterConsumer.assign(partitions);
            deadLetterConsumer.seekToBeginning(partitions);
        }

        void print(Duration elapsed, GenerationProgress progress, Throwable generatorFailure) {
            for (ConsumerRecord<byte[], byte[]> r : deadLetterConsumer.poll(Duration.ofMillis(100))) {
                try {
                    DeadLetter dl = AvroCodec.decode(r.value(), DeadLetter.class, DeadLetter.getClassSchema());
                    deadLetters.computeIfAbsent(pipelineOf(dl.getStage()), k -> new EnumMap<>(DeadLetterReason.class))
                            .merge(dl.getReason(), 1L, Long::sum);
                } catch (RejectedRecordException e) {
                    // Not a dead letter; nothing to count.
                }
            }
            Map<String, Long> byStatus = new LinkedHashMap<>();
            long notifications = 0;
            long applied = 0;
            try (Connection c = DriverManager.getConnection(services.jdbcUrl()); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT status, count(*), sum(version) FROM job_status GROUP BY status ORDER BY status")) {
                    while (rs.next()) {
                        byStatus.put(rs.getString(1), rs.getLong(2));
                        applied += rs.getLong(3);
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM notifications")) {
                    rs.next();
                    notifications = rs.getLong(1);
                }
            } catch (Exception e) {
                System.out.println("  (PostgreSQL not answering: " + e.getMessage() + ")");
            }
            processed = applied + deadLetters.getOrDefault("lifecycle", Map.of()).values().stream().mapToLong(Long::longValue).sum();
            boolean webUp = probeWebUi();
            String flinkJobs;
            try {
                flinkJobs = flink.listJobs().get(5, TimeUnit.SECONDS).stream()
                        .map(j -> j.getJobName() + "=" + j.getJobState()).sorted().toList().toString();
            } catch (Exception e) {
                flinkJobs = "(unknown: " + e.getMessage() + ")";
            }
            System.out.printf("[%4ds] input %s%n", elapsed.toSeconds(), progress == null ? "starting"
                    : String.format("%,d/%,d sent, %,.0f events/s", progress.sent(), progress.total(), progress.ratePerSecond()));
            if (generatorFailure != null) {
                System.out.println("       generator failed: " + generatorFailure.getMessage());
            }
            System.out.printf("       jobs by status %s | lifecycle events applied %,d | notifications %,d%n", byStatus, applied, notifications);
            System.out.printf("       dead letters %s%n", deadLetters.isEmpty() ? "none" : deadLetters.entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(" | ")));
            System.out.printf("       flink %s | Web UI %s%n", flinkJobs, webUp ? webUi + " up" : "not answering");
        }

        /** The pipeline job that wrote a dead letter, from its stage ("audit-chainer", "metrics-windows", ...). */
        static String pipelineOf(String stage) {
            if (stage.startsWith("audit-")) {
                return "audit";
            }
            return stage.startsWith("metrics-") ? "metrics" : "lifecycle";
        }

        private boolean probeWebUi() {
            webUiProbes++;
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(webUi + "/overview"))
                        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    webUiAnswers++;
                    return true;
                }
            } catch (Exception e) {
                // Counted as not answering.
            } 
            return false;
        }

        long processedEvents() {
            return processed;
        }

        void printFinal() {
            System.out.printf("Processed %,d lifecycle events (applied or dead-lettered); Web UI answered %d of %d probes.%n",
                    processed, webUiAnswers, webUiProbes);
        }

        @Override
        public void close() {
            deadLetterConsumer.close(Duration.ofSeconds(2));
        }
    }

}
