package io.cosmichorizons.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server (zonky's embedded PostgreSQL 14 binaries) with a database {@code horizons} owned by the role
 * {@code horizons} (password {@code horizons}).
 *
 * <p>The data directory is {@code <dataDirectory>/pgdata}; the server's output goes to
 * {@code <dataDirectory>/postgres.log}. {@link #restart()} and a later {@link #start()} reopen the same data directory
 * on the same port (zonky skips initdb when {@code postgresql.conf} exists), so committed data survives.
 *
 * <p>Always set: {@code max_prepared_transactions=10} (XA), {@code max_connections=200}, and
 * {@code unix_socket_directories=''} (TCP on localhost only; use {@code psql -h 127.0.0.1}). By default the server is
 * fast and not crash-safe ({@code fsync=off}, {@code synchronous_commit=off}, {@code full_page_writes=off});
 * {@link Builder#durable(boolean) durable(true)} turns all three on. After a process crash ({@link #kill()}) a durable
 * server has every committed transaction; with {@code synchronous_commit=off} the commits of the last few hundred
 * milliseconds may be lost.
 *
 * <p>zonky runs initdb, pg_ctl and postgres through {@code unshare -U} when the JVM runs as root (PostgreSQL refuses to
 * run as root); that works here. The postmaster is not a child of this JVM (pg_ctl starts it).
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    public static final String DATABASE = "horizons";
    public static final String USER = "horizons";
    public static final String PASSWORD = "horizons";
    public static final String SUPERUSER = "postgres";
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private final int requestedPort;
    private final Path rootDir;
    private final boolean keepData;
    private final boolean durable;
    private final Map<String, String> extraConfig;
    private final Duration startupTimeout;

    private int port = -1;
    private volatile EmbeddedPostgres pg;
    private volatile boolean closed;
    private Thread shutdownHook;
    private Duration lastStartupDuration;

    private EmbeddedPostgresServer(Builder b) throws IOException {
        this.requestedPort = b.port;
        this.rootDir = b.dataDir != null ? b.dataDir.toAbsolutePath().normalize()
                : Files.createTempDirectory("horizons-postgres-");
        this.keepData = b.keepData != null ? b.keepData : b.dataDir != null;
        this.durable = b.durable;
        this.extraConfig = Map.copyOf(b.config);
        this.startupTimeout = b.startupTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts PostgreSQL (initdb on first start only), then creates the role and database {@code horizons} if they do
     * not exist. A no-op if it is already running.
     */
    public synchronized EmbeddedPostgresServer start() {
        if (closed) {
            throw new IllegalStateException("EmbeddedPostgresServer is closed");
        }
        if (isRunning()) {
            return this;
        }
        long t0 = System.nanoTime();
        if (port <= 0) {
            if (requestedPort == 0) {
                port = Ports.freePort();
            } else if (Ports.isFree(requestedPort)) {
                port = requestedPort;
            } else {
                throw new IllegalStateException("PostgreSQL port " + requestedPort + " is already in use; choose "
                        + "another port, or set JDBC_URL to use the PostgreSQL that listens there");
            }
        } else if (!Ports.isFree(port)) {
            throw new IllegalStateException("Cannot restart PostgreSQL: port " + port + " is taken");
        }
        try {
            Files.createDirectories(rootDir);
            registerShutdownHook();
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setPort(port)
                    .setDataDirectory(pgData())
                    // Never let zonky delete the data directory: restart() reopens it. close() deletes it if asked.
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(startupTimeout)
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
            serverConfig().forEach(builder::setServerConfig);
            pg = builder.start();
            createRoleAndDatabase();
        } catch (IOException | SQLException | RuntimeException e) {
            String tail = ChildJvm.tail(logFile(), 30);
            closeZonkyQuietly();
            throw new IllegalStateException("Could not start embedded PostgreSQL on port " + port + " in " + pgData()
                    + ": " + e + "\n--- last lines of " + logFile() + " ---\n" + tail, e);
        }
        lastStartupDuration = Duration.ofNanos(System.nanoTime() - t0);
        LOG.info("Embedded PostgreSQL ready at 127.0.0.1:{} in {} ms (pid {}, data {}, durable {})", port,
                lastStartupDuration.toMillis(), pid(), pgData(), durable);
        return this;
    }

    /** Fast shutdown ({@code pg_ctl stop -m fast}); kills the server if it is still there afterwards. */
    public synchronized void stop() {
        EmbeddedPostgres current = pg;
        if (current == null) {
            return;
        }
        long pid = pid();
        long t0 = System.nanoTime();
        closeZonkyQuietly();
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(ph -> {
                if (!awaitExit(ph, Duration.ofSeconds(15))) {
                    LOG.warn("PostgreSQL (pid {}) did not stop; killing it", pid);
                    killTree(ph);
                }
            });
        }
        LOG.info("Embedded PostgreSQL at 127.0.0.1:{} stopped in {} ms", port,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /**
     * Like {@code kill -9} of the postmaster and its backends: no shutdown checkpoint; the next start runs crash
     * recovery.
     */
    public synchronized void kill() {
        EmbeddedPostgres current = pg;
        if (current == null) {
            return;
        }
        long pid = pid();
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(EmbeddedPostgresServer::killTree);
            // Everything is dead, so the pid file is stale. Remove it: until init reaps the killed postmaster, its
            // zombie still answers kill(pid, 0), and a new postmaster would refuse to start ("lock file
            // postmaster.pid already exists") while zonky's "pg_ctl stop" would signal the zombie and wait.
            try {
                Files.deleteIfExists(pgData().resolve("postmaster.pid"));
            } catch (IOException e) {
                LOG.debug("Could not delete postmaster.pid", e);
            }
        }
        LOG.info("Embedded PostgreSQL at 127.0.0.1:{} killed (postmaster pid {}); zonky's close() now fails to "
                + "stop it and logs 'Could not stop postmaster', which is expected", port, pid);
        // Releases zonky's lock on the data directory (a later start in this JVM needs it).
        closeZonkyQuietly();
    }

    /** Stops (if running) and starts again on the same port and data directory. */
    public synchronized EmbeddedPostgresServer restart() {
        stop();
        return start();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            stop();
        } finally {
            closed = true;
            if (!keepData) {
                ChildJvm.deleteRecursively(rootDir);
            }
            removeShutdownHook();
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/horizons?user=horizons&password=horizons}. */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    /** The URL of another database on this server, as the {@code horizons} role. */
    public synchronized String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + requirePort() + "/" + database + "?user=" + USER + "&password=" + PASSWORD;
    }

    /** The superuser's URL ({@code postgres}, trust authentication) to the {@code postgres} database. */
    public String adminJdbcUrl() {
        return adminJdbcUrl("postgres");
    }

    public synchronized String adminJdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + requirePort() + "/" + database + "?user=" + SUPERUSER;
    }

    public boolean isRunning() {
        return pg != null && pid() > 0;
    }

    /** The postmaster's process id (from {@code postmaster.pid}), or -1 if it is not running. */
    public long pid() {
        if (pg == null) {
            return -1;
        }
        Path pidFile = pgData().resolve("postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) {
                return -1;
            }
            long pid = Long.parseLong(lines.get(0).trim());
            return isAlive(pid) ? pid : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** The TCP port (after the first start; -1 before, unless a fixed port was requested). */
    public synchronized int port() {
        return port > 0 ? port : (requestedPort > 0 ? requestedPort : -1);
    }

    /** The directory that holds {@code pgdata/} and {@code postgres.log}. */
    public Path dataDirectory() {
        return rootDir;
    }

    /** PGDATA. */
    public Path pgData() {
        return rootDir.resolve("pgdata");
    }

    public Path logFile() {
        return rootDir.resolve("postgres.log");
    }

    public boolean isDurable() {
        return durable;
    }

    public boolean keepsData() {
        return keepData;
    }

    public synchronized Duration lastStartupDuration() {
        return lastStartupDuration;
    }

    /** A new connection to the {@code horizons} database as the {@code horizons} role. */
    public Connection newConnection() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    @Override
    public String toString() {
        return "EmbeddedPostgresServer[" + (port > 0 ? "127.0.0.1:" + port : "not started") + ", data " + rootDir + "]";
    }

    // ---------------------------------------------------------------------------------------------------------------

    Map<String, String> serverConfig() {
        Map<String, String> c = new TreeMap<>();
        c.put("max_prepared_transactions", "10");
        c.put("max_connections", "200");
        // TCP only. A Unix socket's lock file (/tmp/.s.PGSQL.<port>.lock) survives kill() and, while the killed
        // postmaster is an unreaped zombie, blocks the restart; it could also clash with another server on the port.
        c.put("unix_socket_directories", "");
        String onOff = durable ? "on" : "off";
        // zonky passes -F (fsync off) before these -c options; a later -c fsync=on wins.
        c.put("fsync", onOff);
        c.put("synchronous_commit", onOff);
        c.put("full_page_writes", onOff);
        c.putAll(extraConfig);
        return c;
    }

    private void createRoleAndDatabase() throws SQLException {
        try (Connection c = DriverManager.getConnection(adminJdbcUrl()); Statement s = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", USER)) {
                s.execute("CREATE ROLE " + USER + " LOGIN CREATEDB PASSWORD '" + PASSWORD + "'");
            }
            if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", DATABASE)) {
                s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
            }
        }
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private int requirePort() {
        int p = port();
        if (p <= 0) {
            throw new IllegalStateException("PostgreSQL has not been started yet, so its port is not chosen yet");
        }
        return p;
    }

    private void closeZonkyQuietly() {
        EmbeddedPostgres current = pg;
        pg = null;
        if (current != null) {
            try {
                current.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("Closing embedded PostgreSQL failed: {}", e.toString());
            }
        }
    }

    /** SIGKILL to the postmaster first (so it cannot respawn backends), then to the backends it had. */
    private static void killTree(ProcessHandle postmaster) {
        List<ProcessHandle> children = postmaster.descendants().toList();
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        awaitExit(postmaster, Duration.ofSeconds(10));
        children.forEach(ch -> awaitExit(ch, Duration.ofSeconds(10)));
    }

    /**
     * Whether the process runs. The postmaster is not our child (pg_ctl started it), so once it exits it stays a zombie
     * until init reaps it, which here took up to 2 s; {@link ProcessHandle#isAlive()} counts zombies as alive.
     */
    static boolean isAlive(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(stat.getParent())) {
            try {
                String text = Files.readString(stat);
                int close = text.lastIndexOf(')');
                char state = close >= 0 && close + 2 < text.length() ? text.charAt(close + 2) : '?';
                return state != 'Z' && state != 'X' && state != 'x';
            } catch (IOException e) {
                return false; // it exited between the two calls
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Polls: ProcessHandle.onExit of a process that is not our child notices its exit late. */
    private static boolean awaitExit(ProcessHandle ph, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive(ph.pid())) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isAlive(ph.pid());
            }
        }
        return true;
    }

    private synchronized void registerShutdownHook() {
        if (shutdownHook != null) {
            return;
        }
        Thread hook = new Thread(this::onJvmShutdown, "embedded-postgres-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            shutdownHook = hook;
        } catch (IllegalStateException shuttingDown) {
            // too late
        }
    }

    private synchronized void removeShutdownHook() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // running already
            }
            shutdownHook = null;
        }
    }

    /** Runs without the monitor (another thread may hold it while the JVM shuts down). */
    private void onJvmShutdown() {
        closeZonkyQuietly();
        if (!keepData && !closed) {
            ChildJvm.deleteRecursively(rootDir);
        }
    }

    /** Options for {@link EmbeddedPostgresServer}. */
    public static final class Builder {
        private int port = 0;
        private Path dataDir;
        private Boolean keepData;
        private boolean durable;
        private final Map<String, String> config = new TreeMap<>();
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;

        private Builder() {
        }

        /** TCP port; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("Not a TCP port: " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * The directory for {@code pgdata/} and {@code postgres.log}. Default: a new temporary directory, deleted on
         * {@link EmbeddedPostgresServer#close()}. A directory given here is kept unless {@code keepData(false)}.
         */
        public Builder dataDirectory(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder keepData(boolean keepData) {
            this.keepData = keepData;
            return this;
        }

        /** {@code true}: fsync, synchronous_commit and full_page_writes on. Default {@code false}: all three off. */
        public Builder durable(boolean durable) {
            this.durable = durable;
            return this;
        }

        /** An extra {@code postgres -c key=value} setting; it overrides the defaults above. */
        public Builder serverConfig(String key, String value) {
            config.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        public EmbeddedPostgresServer build() {
            try {
                return new EmbeddedPostgresServer(this);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not create a temporary data directory", e);
            }
        }

        public EmbeddedPostgresServer start() {
            EmbeddedPostgresServer server = build();
            try {
                return server.start();
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
        }
    }
}
