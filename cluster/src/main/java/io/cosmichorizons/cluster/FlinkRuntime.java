package io.cosmichorizons.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

/**
 * Where the Flink runtime of the cluster's JVMs comes from: the jars that the cluster module's build resolves with
 * Maven (flink-runtime, flink-runtime-web, the RocksDB state backend, the Prometheus reporter, the Table API and
 * log4j) and lists in {@code cluster/target/flink-classpath.txt} - the equivalent of flink-dist's {@code lib/}.
 */
public final class FlinkRuntime {

    /** System property naming the classpath file (set by the module's surefire configuration). */
    public static final String CLASSPATH_PROPERTY = "horizons.flink.classpath";
    /** System property naming the project folder (set by bin/horizons). */
    public static final String HOME_PROPERTY = "horizons.home";

    private final List<Path> jars;

    private FlinkRuntime(List<Path> jars) {
        this.jars = List.copyOf(jars);
    }

    /** The runtime listed in the classpath file of the system property, or else of {@code <home>/cluster/target}. */
    public static FlinkRuntime locate(Path home) {
        String property = System.getProperty(CLASSPATH_PROPERTY);
        Path file = property != null && !property.isBlank() ? Path.of(property)
                : home.resolve("cluster/target/flink-classpath.txt");
        return fromClasspathFile(file);
    }

    public static FlinkRuntime fromClasspathFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("The Flink runtime classpath " + file + " does not exist: build the project "
                    + "first (mvn -B package -DskipTests, or any bin/horizons command)");
        }
        try {
            String text = Files.readString(file).strip();
            List<Path> jars = Arrays.stream(text.split(File.pathSeparator)).filter(s -> !s.isBlank()).map(Path::of).toList();
            List<Path> missing = jars.stream().filter(j -> !Files.exists(j)).toList();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("Jars of the Flink runtime are missing (" + missing.get(0) + ", ...): "
                        + "rebuild with mvn -B package -DskipTests so Maven downloads them");
            }
            return new FlinkRuntime(jars);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
    }

    /** The project folder: the {@code horizons.home} system property, else the working directory. */
    public static Path home() {
        String property = System.getProperty(HOME_PROPERTY);
        return (property != null && !property.isBlank() ? Path.of(property) : Path.of("")).toAbsolutePath().normalize();
    }

    public List<Path> jars() {
        return jars;
    }

    public String classpath() {
        return String.join(File.pathSeparator, jars.stream().map(Path::toString).toList());
    }

    /** The {@code java} of this JVM. */
    public static String javaBinary() {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java.toString() : "java";
    }
}
