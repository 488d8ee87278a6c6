package io.cosmichorizons.bench;

import io.cosmichorizons.bench.jmh.HotPaths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Runs the JMH benchmarks of {@link HotPaths} in forked JVMs. */
final class Micro {
    private Micro() {}

    /** One benchmark's score in operations per second, with JMH's 99.9 % error margin. */
    record Score(String benchmark, double opsPerSecond, double error) {}

    static List<Score> run(boolean quick) throws RunnerException {
        Options options = new OptionsBuilder()
                .include(HotPaths.class.getName() + "\\.")
                .forks(quick ? 1 : 2)
                .warmupIterations(quick ? 2 : 3)
                .warmupTime(TimeValue.seconds(quick ? 1 : 2))
                .measurementIterations(quick ? 3 : 5)
                .measurementTime(TimeValue.seconds(quick ? 1 : 2))
                .jvmArgsAppend("-Xmx512m", "-XX:+UseG1GC")
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        List<Score> scores = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            scores.add(new Score(name.substring(name.lastIndexOf('.') + 1), r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError()));
        }
        return scores;
    }
}
