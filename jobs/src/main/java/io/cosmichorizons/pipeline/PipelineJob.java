package io.cosmichorizons.pipeline;

import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A pipeline job as the CLI, the demo and the cluster tooling see it: a name, its documented options, and how to
 * build its production dataflow (Kafka and PostgreSQL in, Kafka and PostgreSQL out) on an environment.
 */
public interface PipelineJob {

    /** Short name used on the command line, e.g. "lifecycle". */
    String name();

    /** The Flink job name shown in the Web UI. */
    String jobName();

    /** The main class that runs the job under {@code flink run}. */
    Class<?> mainClass();

    List<Option> options();

    /** Defines the production dataflow on {@code env}, configured from {@code settings}. */
    void define(StreamExecutionEnvironment env, Settings settings);
}
