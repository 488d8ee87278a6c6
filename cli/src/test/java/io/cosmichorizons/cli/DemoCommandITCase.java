package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.testbed.Ports;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's run command, bounded: it must end by itself, process events, and serve the Web UI meanwhile. */
class DemoCommandITCase {

    @Test
    void boundedDemoEndsByItselfAfterProcessingEvents() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int exit;
        try (PrintStream tee = new PrintStream(new TeeStream(captured, original), true, StandardCharsets.UTF_8)) {
            System.setOut(tee);
            exit = Horizons.commandLine().execute("demo", "--duration", "35s", "--summary-every", "5s",
                    "--jobs", "3000", "--rate", "3000",
                    "--web-port", String.valueOf(Ports.freePort()),
                    "--kafka-port", String.valueOf(Ports.freePort()),
                    "--postgres-port", String.valueOf(Ports.freePort()));
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        Matcher processed = Pattern.compile("Processed ([\\d,]+) lifecycle events").matcher(out);
        assertTrue(processed.find(), out);
        assertTrue(Long.parseLong(processed.group(1).replace(",", "")) > 0, out);
        Matcher web = Pattern.compile("Web UI answered (\\d+) of (\\d+) probes").matcher(out);
        assertTrue(web.find(), out);
        assertTrue(Integer.parseInt(web.group(1)) >= 1, "the Web UI never answered:\n" + out);
        assertTrue(out.contains("submitted horizons-lifecycle"), out);
    }

    /** Writes to both the capture and the console, so a CI log still shows the demo's output. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws java.io.IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
