package io.cosmichorizons.dashboard;

import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live operations dashboard: a web server with one page, fed by a read_committed Kafka consumer
 * ({@link KafkaFeed}), read-only PostgreSQL queries ({@link DatabaseFeed}) re-run after each commit to job_status
 * ({@link JobStatusChanges}) and, optionally, the Flink REST API ({@link FlinkFeed}). Changes reach open pages over
 * Server-Sent Events.
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
    private final AtomicBoolean closed = new AtomicBoolean();
    private Javalin web;
    private volatile JobStatusChanges changes;
    private boolean alertsTable;
    private volatile boolean triggerInstalled;
    private final AtomicBoolean changeRefreshQueued = new AtomicBoolean();
    private volatile long lastChangeRefreshStart = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    private volatile long lastChangeRefreshCost;
    private volatile long lastCountsNanos;
    private volatile long lastChartsNanos;

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
        alertsTable = seedAlerts();
        refreshCounts(); // also finds out whether job_status has the change trigger
        refreshCharts();
        changes = new JobStatusChanges(config.jdbcUrl(), this::jobStatusChanged).start();
        kafka.start();
        web = WebApp.create(config, state,
                user -> DatabaseFeed.notificationsOf(config.jdbcUrl(), user, WebApp.HISTORY_LIMIT));
        web.start(config.bindAddress(), config.port());
        long counts = config.countsInterval().toMillis();
        long charts = config.chartsInterval().toMillis();
        // While changes are heard, these timers only resync now and then; otherwise they are the refresh.
        // The PostgreSQL tasks share one connection (they synchronise on this); Flink and keep-alives run beside them.
        scheduler.scheduleWithFixedDelay(() -> {
            if (!hearingChanges() || resyncDue(lastCountsNanos)) {
                refreshCounts();
            }
        }, counts, counts, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> {
            if (!hearingChanges() || resyncDue(lastChartsNanos)) {
                refreshCharts();
            }
        }, charts, charts, TimeUnit.MILLISECONDS);
        if (flink != null) {
            scheduler.scheduleWithFixedDelay(() -> state.setFlink(flink.poll()), 0,
                    config.flinkInterval().toMillis(), TimeUnit.MILLISECONDS);
        }
        scheduler.scheduleWithFixedDelay(hub::keepAlive, 15, 15, TimeUnit.SECONDS);
        LOG.info("Dashboard at {}", url());
        if (!triggerInstalled) {
            LOG.warn("job_status has no change trigger (migration V008 is not applied): its panels are re-read every "
                    + "{} ms / {} ms instead of after each commit; run `bin/horizons db migrate`", counts, charts);
        }
    }

    /** Whether a commit to job_status reaches {@link #jobStatusChanged()} as it happens. */
    private boolean hearingChanges() {
        return triggerInstalled && changes != null && changes.listening();
    }

    private boolean resyncDue(long lastNanos) {
        return System.nanoTime() - lastNanos >= config.resyncInterval().toNanos();
    }

    /**
     * A commit to job_status (or a new LISTEN connection): re-read its panels now, or once {@code changeGap} (or three
     * times the last re-read's duration) has passed since the last one started. Commits meanwhile share that re-read.
     */
    private void jobStatusChanged() {
        if (!changeRefreshQueued.compareAndSet(false, true)) {
            return;
        }
        long gap = Math.max(config.changeGap().toNanos(), 3 * lastChangeRefreshCost);
        long wait = Math.max(0, lastChangeRefreshStart + gap - System.nanoTime());
        try {
            scheduler.schedule(this::refreshAfterChange, wait, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            changeRefreshQueued.set(false); // closing
        }
    }

    private void refreshAfterChange() {
        // Cleared and stamped first: a commit during this re-read queues the next one, a gap after this one's start.
        changeRefreshQueued.set(false);
        long start = System.nanoTime();
        lastChangeRefreshStart = start;
        refreshCounts();
        refreshCharts();
        lastChangeRefreshCost = System.nanoTime() - start;
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

    private synchronized void refreshCounts() {
        lastCountsNanos = System.nanoTime();
        try {
            if (!triggerInstalled) {
                triggerInstalled = database.triggerInstalled(); // the migrations may have run since
            }
            DatabaseFeed.CountsResult result = database.counts();
            state.setCounts(result.counts(), result.newestEventAt());
            state.setDatabase(databaseStatus(), alertsTable);
        } catch (SQLException | RuntimeException e) {
            database.reset();
            state.setDatabase("cannot read job_status: " + e.getMessage(), alertsTable);
            state.refreshHealth();
        }
    }

    private String databaseStatus() {
        String every = "job_status re-read every " + config.countsInterval().toMillis() + " ms";
        if (!triggerInstalled) {
            return "ok · " + every + " (no change trigger: apply migration V008 with bin/horizons db migrate)";
        }
        // No listener yet: the server is starting, and it listens a moment later.
        return changes == null || changes.listening() ? "ok" : "ok · " + every + " (not hearing its changes; reconnecting)";
    }

    private synchronized void refreshCharts() {
        lastChartsNanos = System.nanoTime();
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
        if (changes != null) {
            changes.close();
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
