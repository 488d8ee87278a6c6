package io.cosmichorizons.cli;

import io.cosmichorizons.dashboard.DashboardConfig;
import io.cosmichorizons.dashboard.DashboardServer;
import io.cosmichorizons.topics.Topics;
import java.net.InetAddress;
import java.net.URI;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons dashboard}: the live operations page. */
@Command(name = "dashboard", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the live operations dashboard: jobs by status per HPC system, queue charts, open and "
                + "resolved alerts, a live notification stream and pipeline health, pushed to the browser as they are "
                + "committed. Runs until Ctrl-C.")
public final class DashboardCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8090", description = "HTTP port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", defaultValue = DashboardConfig.DEFAULT_BIND, paramLabel = "ADDRESS",
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 exposes it)")
    String bind;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:HORIZONS_DASHBOARD_TOKEN}",
            description = "Require this bearer token (env HORIZONS_DASHBOARD_TOKEN, which keeps it out of the process list)")
    String token;

    @Option(names = "--flink-rest", paramLabel = "URL",
            description = "Flink REST API, e.g. http://localhost:8081, for each job's last checkpoint")
    URI flinkRest;

    @Option(names = "--notifications-topic", defaultValue = Topics.JOB_NOTIFICATIONS, paramLabel = "TOPIC",
            description = "Notifications topic (default ${DEFAULT-VALUE})")
    String notificationsTopic;

    @Option(names = "--alerts-topic", defaultValue = Topics.SYSTEM_ALERTS, paramLabel = "TOPIC",
            description = "Alerts topic (default ${DEFAULT-VALUE})")
    String alertsTopic;

    @Option(names = "--dead-letters-topic", defaultValue = Topics.DEAD_LETTERS, paramLabel = "TOPIC",
            description = "Dead-letter topic, for the dead-letter rate (default ${DEFAULT-VALUE})")
    String deadLettersTopic;

    @Mixin
    ServiceOptions services;

    @Override
    public Integer call() throws Exception {
        DashboardConfig config = DashboardConfig.defaults(services.bootstrapServers, services.jdbcUrl)
                .withBind(bind, port)
                .withToken(token)
                .withFlinkRest(flinkRest)
                .withTopics(notificationsTopic, alertsTopic, deadLettersTopic);
        if (!InetAddress.getByName(bind).isLoopbackAddress() && config.token() == null) {
            System.err.println("Warning: --bind " + bind + " exposes the dashboard without a token; anyone who can reach "
                    + "this port sees job, user and error details. Consider --token or HORIZONS_DASHBOARD_TOKEN.");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (DashboardServer dashboard = DashboardServer.start(config)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                dashboard.close();
                stopped.countDown();
            }, "dashboard-shutdown"));
            System.out.println("Dashboard: " + dashboard.url());
            System.out.println("Reading " + services.bootstrapServers + " and PostgreSQL; Ctrl-C stops it.");
            stopped.await();
        }
        return 0;
    }

    /** Starts a dashboard for the demo on the preferred port, or a free one if it is taken. */
    static DashboardServer startForDemo(String bootstrapServers, String jdbcUrl, String flinkRest, int preferredPort) {
        DashboardConfig config = DashboardConfig.defaults(bootstrapServers, jdbcUrl)
                .withBind(DashboardConfig.DEFAULT_BIND, io.cosmichorizons.testbed.Ports.preferredOrFree(preferredPort))
                .withFlinkRest(URI.create(flinkRest));
        return DashboardServer.start(config);
    }
}
