package io.cosmichorizons.cluster.sql;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * Flink SQL over the platform's PostgreSQL: a batch {@link TableEnvironment} (in this JVM) with a JDBC catalog
 * ({@code flink-connector-jdbc-postgres}) named {@value #CATALOG}, so every table and view of the database (job_status,
 * the audit ledger, the analytics views) is a Flink table. Runs scripts of semicolon-separated statements and
 * collects the rows of every query.
 */
public final class FlinkSql implements AutoCloseable {

    /** The catalog the statements run in (its default database is the JDBC URL's). */
    public static final String CATALOG = "horizons";

    /** The rows of one statement. */
    public record Result(String statement, List<String> columns, List<List<Object>> rows) {}

    private final TableEnvironment tableEnv;

    /** @param jdbcUrl {@code jdbc:postgresql://host:port/database?user=...&password=...} */
    public FlinkSql(String jdbcUrl) {
        JdbcTarget target = JdbcTarget.parse(jdbcUrl);
        this.tableEnv = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        // Registered as an instance rather than with CREATE CATALOG ... ('type' = 'jdbc'): see HorizonsPostgresCatalog
        // for what the upstream PostgresCatalog lacks.
        tableEnv.registerCatalog(CATALOG, new HorizonsPostgresCatalog(CATALOG, target.database(), target.user(),
                target.password(), target.baseUrl()));
        tableEnv.useCatalog(CATALOG);
    }

    public TableEnvironment tableEnvironment() {
        return tableEnv;
    }

    /** Runs every statement of a script, in order; returns one result per statement. */
    public List<Result> run(String script) {
        List<Result> results = new ArrayList<>();
        for (String statement : SqlScripts.statements(script)) {
            results.add(execute(statement));
        }
        return results;
    }

    /** Runs one statement; for a query, collects its rows. */
    public Result execute(String statement) {
        TableResult result = tableEnv.executeSql(statement);
        List<String> columns = result.getResolvedSchema().getColumnNames();
        List<List<Object>> rows = new ArrayList<>();
        if (result.getResultKind() == ResultKind.SUCCESS_WITH_CONTENT) {
            try (CloseableIterator<Row> it = result.collect()) {
                while (it.hasNext()) {
                    Row row = it.next();
                    List<Object> values = new ArrayList<>(row.getArity());
                    for (int i = 0; i < row.getArity(); i++) {
                        values.add(row.getField(i));
                    }
                    rows.add(values);
                }
            } catch (Exception e) {
                throw new IllegalStateException("Reading the result of " + statement + " failed: " + e.getMessage(), e);
            }
        }
        return new Result(statement, columns, rows);
    }

    @Override
    public void close() {
        // The batch jobs run in a local MiniCluster per query; nothing stays open between statements.
    }

    /** Where a PostgreSQL JDBC URL points, split the way the JDBC catalog wants it. */
    record JdbcTarget(String baseUrl, String database, String user, String password) {
        static JdbcTarget parse(String jdbcUrl) {
            if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
                throw new IllegalArgumentException("Not a PostgreSQL JDBC URL: " + jdbcUrl);
            }
            URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
            Map<String, String> params = new LinkedHashMap<>();
            if (uri.getRawQuery() != null) {
                for (String p : uri.getRawQuery().split("&")) {
                    String[] kv = p.split("=", 2);
                    params.put(kv[0], kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
                }
            }
            String database = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
            String user = params.getOrDefault("user", System.getProperty("user.name"));
            return new JdbcTarget("jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() > 0 ? uri.getPort() : 5432),
                    database, user, params.get("password"));
        }
    }
}
