package io.cosmichorizons.dashboard;

import io.cosmichorizons.topics.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where the dashboard listens and what it reads.
 *
 * @param bindAddress the address to listen on; loopback by default, so only this machine can open the page
 * @param port the HTTP port; 0 picks a free one
 * @param token when set, every page and data request needs it ({@code Authorization: Bearer <token>}, or
 *     {@code ?token=<token>} because EventSource cannot set headers)
 * @param flinkRest the Flink REST API (e.g. http://localhost:8081), for the last checkpoint of each job; may be null
 * @param countsInterval how often the job_status counts are re-read while changes to job_status cannot be heard (a
 *     database without migration V008's trigger, or the LISTEN connection down)
 * @param chartsInterval the same for the queue charts and the failures table
 * @param flinkInterval how often the Flink REST API is asked
 * @param notificationBacklog notifications per partition shown from before the dashboard started
 * @param changeGap while changes are heard: the shortest time between two re-reads after changes (a re-read that
 *     takes long stretches it to three times its duration, so PostgreSQL is kept at most about a quarter busy)
 * @param resyncInterval while changes are heard: how often everything is re-read anyway (a safety net; and "the last
 *     hour" moves with the wall clock when event times run ahead of it)
 */
public record DashboardConfig(String bindAddress, int port, String token, URI flinkRest, String bootstrapServers,
        String jdbcUrl, String notificationsTopic, String alertsTopic, String deadLettersTopic, Duration countsInterval,
        Duration chartsInterval, Duration flinkInterval, int notificationBacklog, Duration changeGap,
        Duration resyncInterval) {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 8090;

    public DashboardConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (token != null && token.isBlank()) {
            token = null;
        }
        if (flinkRest != null && !("http".equals(flinkRest.getScheme()) || "https".equals(flinkRest.getScheme()))) {
            throw new IllegalArgumentException("--flink-rest must be an http(s) URL, got " + flinkRest);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** The defaults: 127.0.0.1:8090, no token, no Flink, the platform's topic names. */
    public static DashboardConfig defaults(String bootstrapServers, String jdbcUrl) {
        return new DashboardConfig(DEFAULT_BIND, DEFAULT_PORT, null, null, bootstrapServers, jdbcUrl,
                Topics.JOB_NOTIFICATIONS, Topics.SYSTEM_ALERTS, Topics.DEAD_LETTERS, Duration.ofSeconds(1),
                Duration.ofSeconds(5), Duration.ofSeconds(2), 50, Duration.ofMillis(250), Duration.ofSeconds(30));
    }

    public DashboardConfig withBind(String bindAddress, int port) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, countsInterval, chartsInterval, flinkInterval, notificationBacklog, changeGap,
                resyncInterval);
    }

    public DashboardConfig withToken(String token) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, countsInterval, chartsInterval, flinkInterval, notificationBacklog, changeGap,
                resyncInterval);
    }

    public DashboardConfig withFlinkRest(URI flinkRest) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, countsInterval, chartsInterval, flinkInterval, notificationBacklog, changeGap,
                resyncInterval);
    }

    public DashboardConfig withTopics(String notificationsTopic, String alertsTopic, String deadLettersTopic) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, countsInterval, chartsInterval, flinkInterval, notificationBacklog, changeGap,
                resyncInterval);
    }

    public DashboardConfig withIntervals(Duration counts, Duration charts, Duration flink) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, counts, charts, flink, notificationBacklog, changeGap, resyncInterval);
    }

    /** The pace of re-reads while changes to job_status are heard (see {@code changeGap} and {@code resyncInterval}). */
    public DashboardConfig withChangeRefresh(Duration changeGap, Duration resyncInterval) {
        return new DashboardConfig(bindAddress, port, token, flinkRest, bootstrapServers, jdbcUrl, notificationsTopic,
                alertsTopic, deadLettersTopic, countsInterval, chartsInterval, flinkInterval, notificationBacklog,
                changeGap, resyncInterval);
    }

    /** Whether only this machine can connect (then requests must also name a loopback host: no DNS rebinding). */
    public boolean loopbackOnly() {
        try {
            return java.net.InetAddress.getByName(bindAddress).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
