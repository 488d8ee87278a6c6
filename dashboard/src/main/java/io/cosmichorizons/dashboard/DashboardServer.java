package io.cosmichorizons.dashboard;

import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live operations dashboard: a web server with one page, fed by a read_committed Kafka consumer
 * ({@link KafkaFeed}), periodic read-only PostgreSQL queries ({@link DatabaseFeed}) and, optionally, the Flink REST
 * API ({@link FlinkFeed}). Changes reach open pages over Server-Sent Events.
 *
 * <pre>{@code
 * try (DashboardServer dashboard = DashboardServer.start(DashboardConfig.defaults(bootstrap, jdbcUrl))) {
 *     System.out.println(dashboard.url());
 * }
 * }</pre>
 */
public final class DashboardServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DashboardServer.class);

    private final DashboardConfig config;
    private final EventHub hub = new EventHub();
    private final LiveState state = new LiveState(hub, System::currentTimeMillis);
    private final DatabaseFeed database;
    private final KafkaFeed kafka;
    private final FlinkFeed flink;
    private final ScheduledExecutorService scheduler =
            Executors.newScheduledThreadPool(3, EventHub.daemonThreads("dashboard-poll-"));
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private Javalin web;

    private DashboardServer(DashboardConfig config) {
        this.config = config;
        this.database = new DatabaseFeed(config.jdbcUrl());
        this.kafka = new KafkaFeed(config, state);
        this.flink = config.flinkRest() == null ? null : new FlinkFeed(config.flinkRest());
    }

    /** Starts the feeds and the web server; the page is at {@link #url()}. */
    public static DashboardServer start(DashboardConfig config) {
        DashboardServer server = new DashboardServer(config);
        try {
            server.startAll();
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void startAll() {
        // The first queries run before the server answers, so the first page is already filled.
        boolean alertsTable = seedAlerts();
        refreshCounts(alertsTable);
        refreshCharts();
        kafka.start();
        web = WebApp.create(config, state,
                user -> DatabaseFeed.notificationsOf(config.jdbcUrl(), user, WebApp.HISTORY_LIMIT));
        web.start(config.bindAddress(), config.port());
        long counts = config.countsInterval().toMillis();
        long charts = config.chartsInterval().toMillis();
        // The PostgreSQL tasks share one connection (they synchronise on this); Flink and keep-alives run beside them.
        scheduler.scheduleWithFixedDelay(() -> refreshCounts(alertsTable), counts, counts, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::refreshCharts, charts, charts, TimeUnit.MILLISECONDS);
        if (flink != null) {
            scheduler.scheduleWithFixedDelay(() -> state.setFlink(flink.poll()), 0,
                    config.flinkInterval().toMillis(), TimeUnit.MILLISECONDS);
        }
        scheduler.scheduleWithFixedDelay(hub::keepAlive, 15, 15, TimeUnit.SECONDS);
        LOG.info("Dashboard at {}", url());
    }

    /** Seeds the alerts from the alerts table if it exists (the topic stays the source of truth). */
    private boolean seedAlerts() {
        try {
            if (!database.alertsTableExists()) {
                LOG.info("No alerts table (the metrics job's migration is not applied); alerts come from the topic only");
                return false;
            }
            state.applyAlerts(database.alertsFromTable());
            return true;
        } catch (SQLException e) {
            LOG.warn("Cannot read the alerts table: {}", e.getMessage());
            database.reset();
            return false;
        }
    }

    private synchronized void refreshCounts(boolean alertsTable) {
        try {
            DatabaseFeed.CountsResult result = database.counts();
            state.setCounts(result.counts(), result.newestEventAt());
            state.setDatabase("ok", alertsTable);
        } catch (SQLException | RuntimeException e) {
            database.reset();
            state.setDatabase("cannot read job_status: " + e.getMessage(), alertsTable);
            state.refreshHealth();
        }
    }

    private synchronized void refreshCharts() {
        try {
            state.setSeries(database.series());
            state.setFailures(database.failures());
        } catch (SQLException | RuntimeException e) {
            database.reset();
            LOG.debug("Cannot refresh the charts", e);
        }
    }

    /** The port the server listens on (the configured one, or the one picked for port 0). */
    public int port() {
        return web.port();
    }

    /** The page's address, with the token if one is set. */
    public String url() {
        String host = config.bindAddress();
        try {
            InetAddress a = InetAddress.getByName(host);
            if (a.isAnyLocalAddress() || a.isLoopbackAddress()) {
                host = "localhost";
            } else if (host.contains(":")) {
                host = "[" + host + "]";
            }
        } catch (UnknownHostException e) {
            // keep the name as given
        }
        return "http://" + host + ":" + port() + "/"
                + (config.token() == null ? "" : "?token=" + java.net.URLEncoder.encode(config.token(),
                        java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Open event streams (pages), for tests and the CLI's status line. */
    public int openStreams() {
        return hub.subscribers();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        scheduler.shutdownNow();
        hub.close();
        if (web != null) {
            web.stop();
        }
        kafka.close();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        database.close();
    }
}
