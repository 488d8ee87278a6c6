package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.testbed.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's run command, bounded: it must end by itself, process events, and serve the Web UI and the dashboard
 * meanwhile.
 */
class DemoCommandITCase {

    @Test
    void boundedDemoEndsByItselfAfterProcessingEvents() throws Exception {
        DemoRun demo = DemoRun.start("--duration", "35s", "--summary-every", "5s",
                "--jobs", "3000", "--rate", "3000",
                "--web-port", String.valueOf(Ports.freePort()),
                "--kafka-port", String.valueOf(Ports.freePort()),
                "--postgres-port", String.valueOf(Ports.freePort()));
        HttpResponse<String> page;
        int exit;
        try {
            // The URL the demo prints must serve the page while the demo runs.
            String dashboard = demo.awaitLine("(?m)^Dashboard: (http://\\S+)$", Duration.ofMinutes(3));
            page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(dashboard))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            exit = demo.awaitExit(Duration.ofMinutes(4));
        }
        String out = demo.output();
        assertEquals(0, exit, out);
        assertEquals(200, page.statusCode(), "the dashboard's page, while the demo ran:\n" + page.body());
        assertTrue(page.body().contains("<title>Cosmic Horizons · live operations</title>"), page.body());
        Matcher processed = Pattern.compile("Processed ([\\d,]+) lifecycle events").matcher(out);
        assertTrue(processed.find(), out);
        assertTrue(Long.parseLong(processed.group(1).replace(",", "")) > 0, out);
        Matcher web = Pattern.compile("Web UI answered (\\d+) of (\\d+) probes").matcher(out);
        assertTrue(web.find(), out);
        assertTrue(Integer.parseInt(web.group(1)) >= 1, "the Web UI never answered:\n" + out);
        assertTrue(out.contains("submitted horizons-lifecycle"), out);
    }
}
