package io.cosmichorizons.cli;

import io.cosmichorizons.cluster.sql.FlinkSql;
import io.cosmichorizons.cluster.sql.ResultFormatter;
import io.cosmichorizons.cluster.sql.SqlScripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons sql -f FILE | -e QUERY}: Flink SQL (Table API, batch) over PostgreSQL through a JDBC catalog. */
@Command(name = "sql", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run Flink SQL over the platform's PostgreSQL: every table and view (job_status, audit_events,",
                "the analytics_* views) is a table of the catalog 'horizons'. Ready-made queries: sql/flink/*.sql.",
                "Timestamps are shown in UTC."})
public final class SqlCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "A script of ;-separated statements")
        Path file;

        @Option(names = {"-e", "--execute"}, paramLabel = "SQL", description = "Statements to run")
        String sql;
    }

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "table, csv or json (default ${DEFAULT-VALUE})")
    ResultFormatter.Format format;

    @Option(names = "--var", paramLabel = "NAME=VALUE", description = "Replaces ${NAME} in the script (repeatable)")
    Map<String, String> variables = new LinkedHashMap<>();

    @Mixin
    ServiceOptions services;

    @Override
    public Integer call() throws Exception {
        // The catalog reads timestamptz columns as TIMESTAMP in the JVM's zone: make that zone UTC.
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        String script = source.file != null ? Files.readString(source.file) : source.sql;
        List<String> statements = SqlScripts.statements(SqlScripts.substitute(script, variables));
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("No SQL statement to run");
        }
        FlinkSql sql = new FlinkSql(services.jdbcUrl);
        boolean first = true;
        for (String statement : statements) {
            FlinkSql.Result result = sql.execute(statement);
            if (!first && format != ResultFormatter.Format.JSON) {
                System.out.println();
            }
            System.out.print(ResultFormatter.format(result, format));
            first = false;
        }
        return 0;
    }
}
