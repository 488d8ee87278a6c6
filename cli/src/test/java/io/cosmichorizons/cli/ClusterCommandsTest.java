package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.cluster.sql.ResultFormatter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Parsing of the cluster, submit, stop and sql commands, and their errors when no cluster runs. */
class ClusterCommandsTest {

    @Test
    void helpListsTheClusterCommands() {
        StringWriter out = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("--help"));
        for (String sub : new String[] {"cluster", "submit", "stop", "sql"}) {
            assertTrue(out.toString().contains("  " + sub + " "), sub + " missing in:\n" + out);
        }
    }

    @Test
    void submitTakesJobNamesAndOptions() {
        SubmitCommand submit = new SubmitCommand();
        new CommandLine(submit).parseArgs("all", "--parallelism", "3", "--from-latest-checkpoint",
                "--set", "checkpoint.interval=5s", "--set", "lifecycle.group-id=g", "--bootstrap-servers", "k:9092");
        assertEquals(java.util.List.of("all"), submit.names);
        assertEquals(3, submit.parallelism);
        assertTrue(submit.fromLatest);
        assertEquals(Map.of("checkpoint.interval", "5s", "lifecycle.group-id", "g"), submit.extra);
        assertEquals("k:9092", submit.services.bootstrapServers);
    }

    @Test
    void submitGivesOnlyTheAuditJobItsOwnJdbcUrl() {
        SubmitCommand submit = new SubmitCommand();
        new CommandLine(submit).parseArgs("all", "--jdbc-url", "jdbc:postgresql://db/h?user=horizons",
                "--audit-jdbc-url", "jdbc:postgresql://db/h?user=horizons_audit");
        var options = new io.cosmichorizons.cluster.JobSubmitter.Options(
                Map.of("jdbc.url", submit.services.jdbcUrl), submit.jobSettings(), null, null, false, false);
        for (var job : io.cosmichorizons.pipeline.PipelineJobs.ALL) {
            assertEquals(job.name().equals("audit") ? "jdbc:postgresql://db/h?user=horizons_audit"
                    : "jdbc:postgresql://db/h?user=horizons", options.settingsOf(job).get("jdbc.url"), job.name());
        }
    }

    @Test
    void stopNeedsSavepointOrCancel() {
        StringWriter err = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("stop", "lifecycle"));
        assertTrue(err.toString().contains("--savepoint"), err.toString());

        StopJobCommand stop = new StopJobCommand();
        new CommandLine(stop).parseArgs("lifecycle", "--savepoint");
        assertEquals("", stop.how.savepoint, "--savepoint without a folder: the cluster's savepoint-dir");
        new CommandLine(stop = new StopJobCommand()).parseArgs("lifecycle", "--savepoint", "/sp");
        assertEquals("/sp", stop.how.savepoint);
    }

    @Test
    void aClearErrorWhenNoClusterRuns() {
        StringWriter err = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setErr(new PrintWriter(err));
        // A port nothing listens on.
        int code = cl.execute("submit", "all", "--flink-url", "http://localhost:1");
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("no cluster at localhost:1: run bin/horizons cluster start"), err.toString());
    }

    @Test
    void sqlTakesAScriptOrStatementsAndAFormat() {
        SqlCommand sql = new SqlCommand();
        new CommandLine(sql).setCaseInsensitiveEnumValuesAllowed(true)
                .parseArgs("-e", "SELECT 1", "--format", "json", "--var", "job_id=j1");
        assertEquals("SELECT 1", sql.source.sql);
        assertEquals(ResultFormatter.Format.JSON, sql.format);
        assertEquals(Map.of("job_id", "j1"), sql.variables);
        StringWriter err = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("sql"));
        assertTrue(err.toString().contains("--file") || err.toString().contains("-f"), err.toString());
    }
}
