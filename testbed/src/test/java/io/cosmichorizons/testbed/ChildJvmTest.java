package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildJvmTest {

    @Test
    void classpathEntriesBecomeAbsolute() {
        String cp = String.join(File.pathSeparator, "target/classes", "/abs/a.jar", "lib/*", "");
        assertEquals(String.join(File.pathSeparator, "/work/x/target/classes", "/abs/a.jar", "/work/x/lib/*"),
                ChildJvm.absoluteClasspath(cp, Paths.get("/work/x")));
    }

    @Test
    void classpathGoesIntoAnArgumentFile(@TempDir Path dir) throws Exception {
        Path argFile = dir.resolve("cp.args");
        var command = ChildJvm.command(argFile, java.util.List.of("-Xmx64m"), "some.Main", java.util.List.of("a"));
        assertEquals("-Xmx64m", command.get(1));
        assertEquals("@" + argFile.toAbsolutePath(), command.get(2));
        assertEquals(ChildMain.class.getName(), command.get(3));
        assertEquals(Long.toString(ProcessHandle.current().pid()), command.get(4));
        assertEquals(java.util.List.of("some.Main", "a"), command.subList(5, 7));
        String text = Files.readString(argFile);
        assertTrue(text.startsWith("-cp\n\""), text);
        assertTrue(text.contains("kafka_2.13"), "the child classpath holds the broker: " + text);
    }

    @Test
    void tailReturnsTheLastLines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("log");
        Files.writeString(f, "1\n2\n3\n4\n");
        assertEquals("3" + System.lineSeparator() + "4", ChildJvm.tail(f, 2));
        assertTrue(ChildJvm.tail(dir.resolve("missing"), 2).contains("does not exist"));
    }

    @Test
    void aTakenPortIsReportedBeforeAnythingStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            int port = taken.getLocalPort();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> EmbeddedKafka.builder().port(port).start());
            assertTrue(e.getMessage().contains("port " + port + " is already in use"), e.getMessage());
            assertTrue(!Ports.isFree(port));
            IllegalStateException pg = assertThrows(IllegalStateException.class,
                    () -> EmbeddedPostgresServer.builder().port(port).start());
            assertTrue(pg.getMessage().contains("port " + port + " is already in use"), pg.getMessage());
        }
    }
}
