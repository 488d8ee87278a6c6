package io.cosmichorizons.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.dashboard.Views.AlertView;
import io.cosmichorizons.dashboard.Views.NotificationView;
import io.javalin.Javalin;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The web layer alone (no Kafka, no PostgreSQL): headers, token, host check, the event stream. */
class WebAppTest {
    private static final String TOKEN = "s3cret-token";

    private final EventHub hub = new EventHub();
    private final LiveState state = new LiveState(hub, System::currentTimeMillis);
    private final HttpClient http = HttpClient.newHttpClient();
    private Javalin web;

    private String start(String token) {
        DashboardConfig config = DashboardConfig.defaults("unused:9092", "jdbc:postgresql://unused/db")
                .withBind("127.0.0.1", 0).withToken(token);
        List<NotificationView> history = List.of(notification("n-history", "alice"));
        web = WebApp.create(config, state, user -> history).start("127.0.0.1", 0);
        return "http://127.0.0.1:" + web.port();
    }

    @AfterEach
    void stop() {
        hub.close();
        if (web != null) {
            web.stop();
        }
    }

    @Test
    void everyResponseCarriesAStrictContentSecurityPolicy() throws Exception {
        String base = start(null);
        for (String path : List.of("/", "/app.js", "/api/snapshot", "/missing")) {
            HttpResponse<String> r = get(base + path, null);
            String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
            assertTrue(csp.contains("script-src 'self'"), path + ": " + csp);
            assertTrue(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), csp);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
        }
        HttpResponse<String> page = get(base + "/", null);
        assertEquals(200, page.statusCode());
        assertTrue(!page.body().contains("<script>") && !page.body().contains("onload="), "no inline script in the page");
        HttpResponse<String> uplot = get(base + "/vendor/uPlot.iife.min.js", null);
        assertEquals(200, uplot.statusCode());
        assertTrue(uplot.body().contains("uPlot"), "uPlot is served from its webjar");
    }

    @Test
    void aTokenProtectsThePageAndTheData() throws Exception {
        String base = start(TOKEN);
        assertEquals(401, get(base + "/", null).statusCode());
        assertEquals(401, get(base + "/api/snapshot", null).statusCode());
        assertEquals(401, get(base + "/api/snapshot?token=wrong", null).statusCode());
        assertEquals(401, get(base + "/api/events", null).statusCode());
        assertEquals(200, get(base + "/?token=" + TOKEN, null).statusCode());
        assertEquals(200, get(base + "/api/snapshot", "Bearer " + TOKEN).statusCode());
        // The static assets hold no data; the page needs them before it knows the token.
        assertEquals(200, get(base + "/app.js", null).statusCode());
        assertEquals(200, get(base + "/healthz", null).statusCode());
    }

    @Test
    void aLoopbackDashboardAnswersOnlyToLoopbackHostNames() throws Exception {
        String base = start(null);
        int port = web.port();
        assertTrue(rawGet(port, "localhost:" + port).startsWith("HTTP/1.1 200"));
        assertTrue(rawGet(port, "127.0.0.1:" + port).startsWith("HTTP/1.1 200"));
        // A page on another site whose name was rebound to 127.0.0.1 sends its own name as Host.
        assertTrue(rawGet(port, "attacker.example:" + port).startsWith("HTTP/1.1 403"));
        assertEquals(200, get(base + "/", null).statusCode());
    }

    @Test
    void theStreamStartsWithASnapshotThenCarriesChangesAtOnce() throws Exception {
        String base = start(null);
        state.applyAlerts(List.of(alert("a-1", "OPEN", 1_000L)));
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(URI.create(base + "/api/events"))
                        .header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", stream.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (Exception e) {
                // stream closed at the end of the test
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();

        assertEquals("event: snapshot", nextEvent(lines));
        String snapshot = lines.poll(5, TimeUnit.SECONDS);
        assertNotNull(snapshot);
        assertTrue(snapshot.contains("\"alertId\":\"a-1\""), snapshot);

        long sent = System.nanoTime();
        state.addNotifications(List.of(notification("n-1", "bob")));
        assertEquals("event: notifications", nextEvent(lines));
        assertTrue(lines.poll(1, TimeUnit.SECONDS).contains("\"notificationId\":\"n-1\""));
        assertTrue(System.nanoTime() - sent < Duration.ofSeconds(1).toNanos(), "delivered within 1 s");

        state.applyAlerts(List.of(alert("a-1", "RESOLVED", 2_000L)));
        assertEquals("event: alerts", nextEvent(lines));
        String alerts = lines.poll(1, TimeUnit.SECONDS);
        assertTrue(alerts.startsWith("data: {\"open\":[],\"resolved\":[{\"alertId\":\"a-1\""), alerts);
        // An OPEN record never reopens a RESOLVED alert.
        state.applyAlerts(List.of(alert("a-1", "OPEN", 3_000L)));
        assertEquals(List.of(), state.snapshot().alerts().open());
        stream.body().close();
    }

    @Test
    void aUsersHistoryComesFromTheTable() throws Exception {
        String base = start(null);
        HttpResponse<String> r = get(base + "/api/notifications?user=alice", null);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("n-history"), r.body());
        assertEquals(400, get(base + "/api/notifications", null).statusCode());
    }

    private static String nextEvent(BlockingQueue<String> lines) throws InterruptedException {
        while (true) {
            String line = lines.poll(5, TimeUnit.SECONDS);
            if (line == null) {
                return "(nothing within 5 s)";
            }
            if (line.startsWith("event:")) {
                return line;
            }
        }
    }

    private HttpResponse<String> get(String url, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A GET with a Host header of our choice (java.net.http does not let one set it). */
    private static String rawGet(int port, String host) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static NotificationView notification(String id, String user) {
        return new NotificationView(id, "job-" + id, user, "COMPLETED", "Job done", "It worked", "imaging", null, null,
                null, null, List.of("IN_APP"), 1_000L);
    }

    static AlertView alert(String id, String alertState, long updatedAt) {
        return new AlertView(id, "STUCK_QUEUED", "WARNING", alertState, "job-1", "hpc-a", "Stuck", 1.0, 2.0, 500L,
                updatedAt, "RESOLVED".equals(alertState) ? updatedAt : null);
    }
}
