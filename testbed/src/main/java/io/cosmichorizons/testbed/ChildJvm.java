package io.cosmichorizons.testbed;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Collectors;

/** Builds command lines for child JVMs that share this JVM's classpath. */
final class ChildJvm {

    /** Overrides the classpath given to child JVMs (default: this JVM's {@code java.class.path}). */
    static final String CLASSPATH_PROPERTY = "horizons.testbed.child.classpath";

    private ChildJvm() {
    }

    static String javaBinary() {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        if (Files.isExecutable(java)) {
            return java.toString();
        }
        return ProcessHandle.current().info().command().orElse("java");
    }

    /**
     * This JVM's classpath with every entry made absolute (children run in their own working directory).
     * Under Maven surefire this is usually a single manifest-only booter jar whose manifest Class-Path lists the test
     * classpath as absolute file URLs; the JVM follows that manifest for a {@code -cp} entry too, so it works as is.
     */
    static String classpath() {
        String override = System.getProperty(CLASSPATH_PROPERTY);
        String raw = override != null && !override.isBlank() ? override : System.getProperty("java.class.path");
        return absoluteClasspath(raw, Paths.get(System.getProperty("user.dir")));
    }

    static String absoluteClasspath(String classpath, Path base) {
        List<String> entries = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            if (entry.endsWith("*")) { // a wildcard entry: keep the star, resolve the folder
                String folder = entry.substring(0, entry.length() - 1);
                entries.add(base.resolve(folder.isEmpty() ? "." : folder).toAbsolutePath().normalize() + File.separator + "*");
            } else {
                entries.add(base.resolve(entry).toAbsolutePath().normalize().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * {@code java <jvmFlags> @<argFile> ChildMain <our pid> <mainClass> <args>}, where the JDK argument file holds
     * {@code -cp <classpath>}: a test classpath can be long, and Linux limits one command-line argument to 128 KiB.
     */
    static List<String> command(Path argFile, List<String> jvmFlags, String mainClass, List<String> args)
            throws IOException {
        String cp = classpath();
        Files.writeString(argFile, "-cp\n\"" + cp.replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n",
                StandardCharsets.UTF_8);
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(jvmFlags);
        command.add("@" + argFile.toAbsolutePath());
        command.add(ChildMain.class.getName());
        command.add(Long.toString(ProcessHandle.current().pid()));
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    /** The last {@code maxLines} lines of a text file (reads at most the last 64 KiB), or a note if it is absent. */
    static String tail(Path file, int maxLines) {
        if (!Files.isRegularFile(file)) {
            return "(" + file + " does not exist)";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long start = Math.max(0, length - 64 * 1024);
            byte[] bytes = new byte[(int) (length - start)];
            raf.seek(start);
            raf.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            Deque<String> lines = new ArrayDeque<>();
            for (String line : text.split("\r?\n")) {
                lines.addLast(line);
                if (lines.size() > maxLines) {
                    lines.removeFirst();
                }
            }
            return lines.stream().collect(Collectors.joining(System.lineSeparator()));
        } catch (IOException e) {
            return "(could not read " + file + ": " + e + ")";
        }
    }

    /** Deletes a directory tree, best effort. */
    static void deleteRecursively(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
