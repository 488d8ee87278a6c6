package io.cosmichorizons.cluster;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * {@code ParentWatch <parent pid> <main class> <args...>}: runs {@code <main class>} and exits as soon as the parent
 * process is gone, even when the parent was killed with {@code kill -9}. Tests start their cluster processes through it
 * so that no Flink JVM outlives a crashed test JVM. Uses only the JDK: it runs on the Flink runtime's classpath.
 */
public final class ParentWatch {

    /** How long the cluster process's own shutdown hooks may run after the parent died, before it halts. */
    private static final long HALT_AFTER_MILLIS = 15_000;

    private ParentWatch() {}

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: ParentWatch <parent pid> <main class> [args...]");
            System.exit(2);
        }
        long parentPid = Long.parseLong(args[0]);
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            System.err.println("Parent process " + parentPid + " is gone; not starting " + args[1]);
            System.exit(3);
        }
        parent.get().onExit().thenRun(() -> {
            System.err.println("Parent process " + parentPid + " exited; shutting down.");
            Thread halter = new Thread(() -> {
                try {
                    Thread.sleep(HALT_AFTER_MILLIS);
                } catch (InterruptedException ignored) {
                    // halt now
                }
                Runtime.getRuntime().halt(4);
            }, "parent-gone-halter");
            halter.setDaemon(true);
            halter.start();
            System.exit(3);
        });
        Method main = Class.forName(args[1]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
