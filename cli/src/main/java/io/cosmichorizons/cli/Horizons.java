package io.cosmichorizons.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/horizons}: the operator's command line. */
@Command(name = "horizons", mixinStandardHelpOptions = true, version = "Cosmic Horizons pipelines 0.1.0",
        description = "Cosmic Horizons event pipelines on Apache Flink.%n",
        subcommands = {
                DemoCommand.class,
                GenerateCommand.class,
                TopicsCommand.class,
                DbCommand.class,
                DlqCommand.class,
                JobsCommand.class,
                AuditCommand.class,
                DashboardCommand.class,
                ClusterCommand.class,
                SubmitCommand.class,
                StopJobCommand.class,
                SqlCommand.class,
                SlurmBridgeCommand.class,
                ChaosCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class
        },
        footer = {"", "Every command that touches Kafka or PostgreSQL honours KAFKA_BOOTSTRAP_SERVERS and JDBC_URL,",
                "and the flags --bootstrap-servers and --jdbc-url, which win over the environment."})
public final class Horizons implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Horizons());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(cmd.getColorScheme().errorText("Error: " + e.getMessage()));
            if (System.getenv("HORIZONS_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            } else {
                cmd.getErr().println("(set HORIZONS_DEBUG=1 for the stack trace)");
            }
            return 2;
        });
        return cl;
    }
}
