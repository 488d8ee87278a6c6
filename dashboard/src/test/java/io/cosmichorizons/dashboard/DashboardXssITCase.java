package io.cosmichorizons.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.AlertSeverity;
import io.cosmichorizons.events.AlertState;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.topics.Topics;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Producer-supplied strings are shown literally and never run: FAILED (and CANCELLED) lifecycle events whose pipeline
 * name, error message, error code, user id, HPC system and cancel reason carry script tags and attribute-breaking
 * payloads go through the lifecycle job into job_status and the notifications topic, and an alert carries them too.
 * The page must show each string exactly, no payload may set its window flag or open a dialog, no element may be
 * injected, and the Content-Security-Policy must be sent and enforced.
 */
@ExtendWith(RealServices.class)
class DashboardXssITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .build());

    // Each payload would set its own window flag (and open a dialog) if it ever ran.
    private static final String SCRIPT_TAG = "<script>window.__xssScript=1;alert('script')</script>";
    private static final String ATTRIBUTE_BREAKER = "\"><img src=x onerror=\"window.__xssImg=1;alert('img')\">";
    private static final String SINGLE_QUOTE_BREAKER = "'><svg/onload=window.__xssSvg=1>";
    private static final String CELL_BREAKER = "</td></tr><script>window.__xssCell=1</script><tr><td>";
    private static final String USER = "<img src=x onerror=window.__xssUser=1>\"'";
    private static final String SYSTEM = "<svg onload=window.__xssSystem=1>";
    private static final List<String> FLAGS = List.of("__xssScript", "__xssImg", "__xssSvg", "__xssCell",
            "__xssUser", "__xssSystem", "__xssAlert", "__xssInline");

    @Test
    void producerStringsAreShownLiterallyAndNoScriptRuns(@InjectMiniCluster MiniCluster flink) throws Exception {
        try (LiveStack live = LiveStack.start("dashboard-xss", flink); Chromium browser = Chromium.start()) {
            // The page is open first: the payloads arrive as live updates.
            live.startDashboard(0);
            browser.driver.get(live.dashboard.url());
            LiveStack.within("the page to connect", Duration.ofSeconds(15), () -> "live".equals(
                    browser.js("return document.getElementById('connection').getAttribute('data-state');")));

            Instant t = Instant.now().minus(Duration.ofHours(1));
            String failedA = "xss-a-" + UUID.randomUUID();
            String failedB = "xss-b-" + UUID.randomUUID();
            String cancelled = "xss-c-" + UUID.randomUUID();
            live.failedJob(failedA, USER, SYSTEM, SCRIPT_TAG, "<b>E_BOLD</b>", ATTRIBUTE_BREAKER, t);
            live.failedJob(failedB, USER, SYSTEM, ATTRIBUTE_BREAKER, SINGLE_QUOTE_BREAKER, SCRIPT_TAG + CELL_BREAKER,
                    t.plusSeconds(10));
            live.cancelledJob(cancelled, USER, SYSTEM, CELL_BREAKER, SINGLE_QUOTE_BREAKER, t.plusSeconds(20));
            String alertId = UUID.randomUUID().toString();
            live.publishAlert(LiveStack.alert(alertId, AlertState.OPEN, AlertSeverity.CRITICAL,
                    "<img src=x onerror=window.__xssAlert=1>", SCRIPT_TAG + ATTRIBUTE_BREAKER, Instant.now(), null));

            TestStack.await("three committed notifications", Duration.ofSeconds(60), () -> notifications(live).size() == 3);
            Map<String, Notification> byJob = new java.util.HashMap<>();
            notifications(live).forEach(n -> byJob.put(n.getJobId(), n));

            LiveStack.within("the notifications, failures, counts and alert on the page", Duration.ofSeconds(15), () ->
                    count(browser, "#notifications li") == 3 && count(browser, "#failures tbody tr") == 2
                            && count(browser, "#jobs-by-system tbody tr") == 1
                            && count(browser, "#open-alerts tbody tr") == 1);

            // Shown literally, character for character.
            for (Notification n : byJob.values()) {
                String li = "#notifications li[data-notification-id='" + n.getNotificationId() + "']";
                assertEquals(n.getTitle(), text(browser, li + " .title"));
                assertEquals(n.getMessage(), text(browser, li + " .message"));
                assertEquals(USER, text(browser, li + " .user"));
                assertEquals(n.getPipeline(), text(browser, li + " .pipeline"));
            }
            assertTrue(byJob.get(failedA).getMessage().contains(ATTRIBUTE_BREAKER));
            assertEquals(SCRIPT_TAG, text(browser, "#failures tr[data-job-id='" + failedA + "'] .pipeline"));
            assertEquals(" " + ATTRIBUTE_BREAKER, text(browser, "#failures tr[data-job-id='" + failedA + "'] .error-message"));
            assertEquals("<b>E_BOLD</b>", text(browser, "#failures tr[data-job-id='" + failedA + "'] .error-code"));
            assertEquals(ATTRIBUTE_BREAKER, text(browser, "#failures tr[data-job-id='" + failedB + "'] .pipeline"));
            assertEquals(SYSTEM, text(browser, "#jobs-by-system tbody th"));
            assertEquals("<img src=x onerror=window.__xssAlert=1> · test-hpc",
                    text(browser, "#open-alerts tr[data-alert-id='" + alertId + "'] .subject"));
            assertEquals(SCRIPT_TAG + ATTRIBUTE_BREAKER,
                    text(browser, "#open-alerts tr[data-alert-id='" + alertId + "'] .message"));
            // The visible text (what a person sees), not only the DOM text.
            assertTrue(browser.driver.findElement(org.openqa.selenium.By.id("failures")).getText()
                    .contains(SCRIPT_TAG));

            // Nothing ran and nothing was injected.
            assertFalse(browser.dialogOpen(), "no alert dialog");
            for (String flag : FLAGS) {
                assertEquals("undefined", browser.js("return typeof window[arguments[0]];", flag), flag);
            }
            assertEquals(0L, browser.js("return document.querySelectorAll("
                    + "'main script, main img, main svg, main iframe, [onerror], [onload]').length;"));

            // The policy is sent ...
            HttpResponse<String> page = LiveStack.get(live.dashboard.url());
            String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
            assertTrue(csp.contains("script-src 'self'"), csp);
            assertFalse(csp.contains("'unsafe-inline'") || csp.contains("'unsafe-eval'"), csp);
            // ... and enforced: an inline script added to the page does not run, and is the only violation.
            assertEquals(null, browser.js("return document.body.getAttribute('data-csp-violations');"));
            browser.js("const s = document.createElement('script'); s.textContent = 'window.__xssInline = 1;';"
                    + "document.body.appendChild(s);");
            LiveStack.within("the browser to report the blocked inline script", Duration.ofSeconds(5),
                    () -> "1".equals(browser.js("return document.body.getAttribute('data-csp-violations');")));
            assertEquals("undefined", browser.js("return typeof window.__xssInline;"));
            assertFalse(browser.dialogOpen(), "no alert dialog");
        }
    }

    private static List<Notification> notifications(LiveStack live) {
        return TestStack.readAll(live.stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class,
                Notification.getClassSchema());
    }

    private static long count(Chromium browser, String selector) {
        return (Long) browser.js("return document.querySelectorAll(arguments[0]).length;", selector);
    }

    private static String text(Chromium browser, String selector) {
        return (String) browser.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                selector);
    }
}
