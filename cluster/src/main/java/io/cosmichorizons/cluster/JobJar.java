package io.cosmichorizons.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The shaded job jar, {@code jobs/target/horizons-jobs-<version>-job.jar} (Flink provided, everything else inside). */
public final class JobJar {

    /** System property naming the jar (set by the cluster module's surefire configuration). */
    public static final String PROPERTY = "horizons.job.jar";

    private JobJar() {}

    /** The jar of the system property, else the newest {@code horizons-jobs-*-job.jar} in {@code <home>/jobs/target}. */
    public static Path locate(Path home) {
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            Path jar = Path.of(property);
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException("The job jar " + jar + " does not exist: build it with "
                        + "mvn -B -pl jobs -am package -DskipTests");
            }
            return jar;
        }
        return newest(home.resolve("jobs/target"), "horizons-jobs-.*-job\\.jar");
    }

    /**
     * The job jar of a next release, {@code jobs-next/target/horizons-jobs-next-<version>-job.jar}: the same jobs built
     * against a compatible change of the lifecycle contract, for upgrade tests (see jobs-next/pom.xml).
     */
    public static Path locateNext(Path home) {
        return newest(home.resolve("jobs-next/target"), "horizons-jobs-next-.*-job\\.jar");
    }

    private static Path newest(Path target, String pattern) {
        try (Stream<Path> files = Files.isDirectory(target) ? Files.list(target) : Stream.empty()) {
            return files.filter(f -> f.getFileName().toString().matches(pattern))
                    .max(Comparator.comparing(f -> f.toFile().lastModified()))
                    .orElseThrow(() -> new IllegalStateException("No job jar in " + target
                            + ": build it with mvn -B package -DskipTests (bin/horizons does on first use)"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
