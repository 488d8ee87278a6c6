package io.cosmichorizons.testbed;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of the child JVMs that {@link EmbeddedKafka} starts: {@code ChildMain <parent pid> <main class> <args...>}.
 *
 * <p>It watches the parent process and exits (running the real main class's shutdown hooks, so the broker shuts down
 * cleanly) as soon as the parent is gone, even when the parent died by {@code kill -9} and could not run its own
 * shutdown hooks. Then it runs {@code <main class>.main(args)} in this thread.
 */
public final class ChildMain {

    /** How long the child's own shutdown hooks may take after the parent died, before the child halts. */
    private static final long HALT_AFTER_MILLIS = 20_000;

    private ChildMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: ChildMain <parent pid> <main class> [args...]");
            System.exit(2);
        }
        long parentPid = Long.parseLong(args[0]);
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            System.err.println("Parent process " + parentPid + " is gone; not starting " + args[1]);
            System.exit(3);
        }
        parent.get().onExit().thenRun(() -> exitBecauseParentDied(parentPid));

        Class<?> mainClass = Class.forName(args[1]);
        Method main = mainClass.getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void exitBecauseParentDied(long parentPid) {
        System.err.println("Parent process " + parentPid + " exited; shutting down.");
        Thread halter = new Thread(() -> {
            try {
                Thread.sleep(HALT_AFTER_MILLIS);
            } catch (InterruptedException ignored) {
                // fall through and halt
            }
            Runtime.getRuntime().halt(4);
        }, "parent-gone-halter");
        halter.setDaemon(true);
        halter.start();
        System.exit(3);
    }
}
