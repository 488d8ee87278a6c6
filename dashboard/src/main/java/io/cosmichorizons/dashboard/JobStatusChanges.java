package io.cosmichorizons.dashboard;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits to job_status, as PostgreSQL announces them on channel {@value #CHANNEL} (the statement trigger of migration
 * V008). A thread of its own LISTENs on a connection of its own and calls {@code onChange} once per batch of
 * notifications that arrived together; also after every (re)connect, since changes while not listening went unheard.
 */
final class JobStatusChanges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobStatusChanges.class);
    static final String CHANNEL = "job_status_changed";
    /** How long one wait for notifications blocks, i.e. how soon {@link #close()} is noticed at the latest. */
    private static final int WAIT_MS = 500;
    private static final long MAX_BACKOFF_MS = 10_000;

    private final String jdbcUrl;
    private final Runnable onChange;
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean listening;

    JobStatusChanges(String jdbcUrl, Runnable onChange) {
        this.jdbcUrl = jdbcUrl;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "dashboard-job-status-changes");
        thread.setDaemon(true);
    }

    JobStatusChanges start() {
        thread.start();
        return this;
    }

    /** Whether the LISTEN connection is up (changes are heard as they commit). */
    boolean listening() {
        return listening;
    }

    private void run() {
        long backoffMs = 500;
        while (!closed) {
            try (Connection c = connect()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                listening = true;
                backoffMs = 500;
                onChange.run();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] notifications = pg.getNotifications(WAIT_MS);
                    if (notifications != null && notifications.length > 0) {
                        onChange.run();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (closed) {
                    return;
                }
                LOG.warn("Not hearing job_status changes ({}); listening again in {} ms", e.getMessage(), backoffMs);
                try {
                    TimeUnit.MILLISECONDS.sleep(backoffMs); // back-off before reconnecting
                } catch (InterruptedException ie) {
                    return;
                }
                backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
            } finally {
                listening = false;
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("connectTimeout", "5");
        p.setProperty("ApplicationName", "horizons-dashboard-listener");
        // TCP keep-alive, so a listener whose server vanished without a FIN errs instead of waiting forever.
        p.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(jdbcUrl, p);
    }

    /** Stops listening: the thread notices within {@value #WAIT_MS} ms and closes its connection itself. */
    @Override
    public void close() {
        closed = true;
        if (!listening) {
            thread.interrupt(); // it may be waiting out a back-off
        }
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
