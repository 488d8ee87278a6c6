package io.cosmichorizons.cli;

import io.cosmichorizons.waiting.Poll;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/horizons demo ...} running in this JVM on a thread of its own, its output captured for the test and still
 * shown on the console (so a CI log has it), and readable while the demo runs.
 */
final class DemoRun {
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final PrintStream original = System.out;
    private final PrintStream tee = new PrintStream(new TeeStream(captured, original), true, StandardCharsets.UTF_8);
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    private DemoRun() {}

    /** Starts {@code horizons demo} with {@code args} (System.out is the capture until {@link #awaitExit}). */
    static DemoRun start(String... args) {
        DemoRun run = new DemoRun();
        System.setOut(run.tee);
        String[] command = new String[args.length + 1];
        command[0] = "demo";
        System.arraycopy(args, 0, command, 1, args.length);
        Thread demo = new Thread(() -> {
            try {
                run.exit.complete(Horizons.commandLine().execute(command));
            } catch (Throwable t) {
                run.exit.completeExceptionally(t);
            }
        }, "demo-under-test");
        demo.setDaemon(true);
        demo.start();
        return run;
    }

    /** Everything the demo printed so far. */
    String output() {
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** Waits until the output has a match of {@code regex} and returns its first group; fails after the deadline. */
    String awaitLine(String regex, Duration timeout) {
        Pattern pattern = Pattern.compile(regex);
        String[] found = new String[1];
        boolean seen = Poll.until(timeout, Duration.ofMillis(100), () -> {
            Matcher m = pattern.matcher(output());
            if (m.find()) {
                found[0] = m.group(1);
                return true;
            }
            return exit.isDone(); // ended without printing it
        });
        if (!seen || found[0] == null) {
            throw new AssertionError("The demo did not print /" + regex + "/ within " + timeout + ":\n" + output());
        }
        return found[0];
    }

    /** The demo's exit code, once it ended by itself; restores System.out. */
    int awaitExit(Duration timeout) throws Exception {
        try {
            return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            System.setOut(original);
            tee.flush();
        }
    }

    /** Writes to both the capture and the console. */
    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
