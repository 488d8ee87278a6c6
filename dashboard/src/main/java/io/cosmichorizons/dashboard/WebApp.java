package io.cosmichorizons.dashboard;

import io.cosmichorizons.dashboard.Views.NotificationView;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side: one page (HTML, JS, CSS and uPlot from its webjar, all from the classpath), a JSON snapshot, a user's
 * notification history, and the Server-Sent-Event stream.
 *
 * <p>Security: a Content-Security-Policy that allows only this origin's scripts and styles (no inline script, no
 * eval, no inline event handlers), and the page renders every string as text. With a loopback bind address, requests
 * must name a loopback host (a DNS-rebinding page cannot read the data). With a token, every request except the
 * static assets and /healthz must carry it.
 */
final class WebApp {
    private static final Logger LOG = LoggerFactory.getLogger(WebApp.class);

    /** Nothing but this origin's own files; no inline script or style, no framing, no forms, no plugins. */
    static final String CONTENT_SECURITY_POLICY = String.join("; ",
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'");

    private static final String WEB = "io/cosmichorizons/dashboard/web/";
    private static final Set<String> PUBLIC_PATHS = Set.of("/app.js", "/app.css", "/vendor/uPlot.iife.min.js",
            "/vendor/uPlot.min.css", "/healthz");
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]", "::1");
    static final int HISTORY_LIMIT = 100;

    /** Reads a user's notification history (the notifications table). */
    interface NotificationHistory {
        List<NotificationView> of(String userId) throws Exception;
    }

    private WebApp() {}

    static Javalin create(DashboardConfig config, LiveState state, NotificationHistory history) {
        byte[] index = resource(WEB + "index.html");
        byte[] script = resource(WEB + "app.js");
        byte[] style = resource(WEB + "app.css");
        String uplot = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
        byte[] uplotScript = resource(uplot + "uPlot.iife.min.js");
        byte[] uplotStyle = resource(uplot + "uPlot.min.css");
        byte[] token = config.token() == null ? null : config.token().getBytes(StandardCharsets.UTF_8);
        boolean loopbackOnly = config.loopbackOnly();

        return Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            // Event streams must reach the browser as they are written.
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.routes.before(ctx -> {
                securityHeaders(ctx);
                if (loopbackOnly && !LOOPBACK_HOSTS.contains(hostName(ctx.header("Host")))) {
                    deny(ctx, 403, "This dashboard answers only to localhost (start it with --bind to expose it).");
                } else if (token != null && !PUBLIC_PATHS.contains(ctx.path()) && !authorized(ctx, token)) {
                    ctx.header("WWW-Authenticate", "Bearer realm=\"horizons-dashboard\"");
                    deny(ctx, 401, "A token is required: open the page as /?token=<token>, or send "
                            + "'Authorization: Bearer <token>'.");
                }
            });
            c.routes.get("/", bytes(index, "text/html; charset=utf-8"));
            c.routes.get("/index.html", bytes(index, "text/html; charset=utf-8"));
            c.routes.get("/app.js", bytes(script, "text/javascript; charset=utf-8"));
            c.routes.get("/app.css", bytes(style, "text/css; charset=utf-8"));
            c.routes.get("/vendor/uPlot.iife.min.js", bytes(uplotScript, "text/javascript; charset=utf-8"));
            c.routes.get("/vendor/uPlot.min.css", bytes(uplotStyle, "text/css; charset=utf-8"));
            c.routes.get("/healthz", ctx -> ctx.contentType("text/plain; charset=utf-8").result("ok"));
            c.routes.get("/api/snapshot", ctx -> json(ctx, LiveState.json(state.snapshot())));
            c.routes.get("/api/notifications", ctx -> {
                String user = ctx.queryParam("user");
                if (user == null || user.isBlank() || user.length() > 256) {
                    deny(ctx, 400, "Give ?user=<user id>.");
                    return;
                }
                try {
                    json(ctx, LiveState.json(history.of(user)));
                } catch (Exception e) {
                    LOG.warn("Cannot read the notifications of a user", e);
                    deny(ctx, 503, "The notifications table cannot be read right now.");
                }
            });
            c.routes.sse("/api/events", client -> {
                client.keepAlive();
                state.subscribe(client);
            });
        });
    }

    static void securityHeaders(Context ctx) {
        ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cross-Origin-Opener-Policy", "same-origin");
        ctx.header("Cross-Origin-Resource-Policy", "same-origin");
        ctx.header("Cache-Control", "no-store");
    }

    private static boolean authorized(Context ctx, byte[] token) {
        String header = ctx.header("Authorization");
        String offered = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
                : ctx.queryParam("token");
        // Constant time: the comparison must not tell how much of a guess was right.
        return offered != null && MessageDigest.isEqual(offered.getBytes(StandardCharsets.UTF_8), token);
    }

    private static void deny(Context ctx, int status, String message) {
        ctx.status(status).contentType("text/plain; charset=utf-8").result(message);
        ctx.skipRemainingHandlers();
    }

    /** The host name of a Host header: {@code [::1]:8090} gives {@code [::1]}, {@code localhost:8090} localhost. */
    static String hostName(String hostHeader) {
        if (hostHeader == null) {
            return "";
        }
        String h = hostHeader.trim().toLowerCase(java.util.Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static Handler bytes(byte[] body, String contentType) {
        return ctx -> ctx.contentType(contentType).result(body);
    }

    private static void json(Context ctx, String body) {
        ctx.contentType("application/json; charset=utf-8").result(body);
    }

    static byte[] resource(String path) {
        try (InputStream in = WebApp.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("Missing resource on the classpath: " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The version of the uPlot webjar on the classpath, so the pom alone decides it. */
    static String uplotVersion() {
        Properties p = new Properties();
        try (InputStream in = WebApp.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("The uPlot webjar (org.webjars.npm:uplot) is not on the classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }
}
