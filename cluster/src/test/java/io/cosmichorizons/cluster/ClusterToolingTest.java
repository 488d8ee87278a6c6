package io.cosmichorizons.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.cluster.sql.FlinkSql;
import io.cosmichorizons.cluster.sql.ResultFormatter;
import io.cosmichorizons.cluster.sql.SqlScripts;
import io.cosmichorizons.pipeline.PipelineJob;
import io.cosmichorizons.pipeline.PipelineJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unit tests of the cluster tooling's pure parts: names, arguments, configuration, history, SQL scripts, output. */
class ClusterToolingTest {

    @Test
    void jobNamesResolveAgainstPipelineJobsAll() {
        assertEquals(PipelineJobs.ALL, JobSubmitter.resolve(List.of("all")));
        PipelineJob first = PipelineJobs.ALL.get(0);
        assertEquals(List.of(first), JobSubmitter.resolve(List.of(first.name(), first.jobName())), "no duplicates");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobSubmitter.resolve(List.of("nosuch")));
        assertTrue(e.getMessage().contains(first.name()), "lists the job names: " + e.getMessage());
    }

    @Test
    void programArgumentsAreSortedKeyValuePairs() {
        assertEquals(List.of("--jdbc.url", "u", "--kafka.bootstrap-servers", "k", "--parallelism", "3"),
                JobSubmitter.programArgs(Map.of("kafka.bootstrap-servers", "k", "jdbc.url", "u"), 3));
    }

    @Test
    void theRunDirectoryHistoryFindsTheLastSnapshotAndKeepsNoPasswords(@TempDir Path dir) throws Exception {
        JobHistory history = new JobHistory(dir);
        history.submitted("lifecycle", "a1", List.of("--jdbc.url", "jdbc:postgresql://db/h?user=u&password=secret"), null);
        assertTrue(history.stopAfterLastSubmission("lifecycle").isEmpty());
        history.stopped("lifecycle", "a1", "file:/sp/savepoint-1");
        assertEquals("file:/sp/savepoint-1", history.stopAfterLastSubmission("lifecycle").orElseThrow().snapshot());
        history.submitted("lifecycle", "b2", List.of(), "file:/sp/savepoint-1");
        assertTrue(history.stopAfterLastSubmission("lifecycle").isEmpty());
        assertEquals("b2", history.lastSubmission("lifecycle").orElseThrow().jobId());
        String text = Files.readString(dir.resolve("lifecycle.jsonl"));
        assertTrue(!text.contains("secret") && text.contains("password=***"), text);
    }

    @Test
    void theNewestRetainedCheckpointIsTheHighestNumberWithMetadata(@TempDir Path dir) throws Exception {
        for (String chk : List.of("chk-9", "chk-10", "chk-11")) {
            Files.createDirectories(dir.resolve(chk));
        }
        Files.writeString(dir.resolve("chk-9/_metadata"), "x");
        Files.writeString(dir.resolve("chk-10/_metadata"), "x");
        // chk-11 has no _metadata: an incomplete (or in-progress) checkpoint.
        assertEquals(dir.resolve("chk-10").toUri().toString(), JobSubmitter.newestRetainedCheckpoint(dir).orElseThrow());
        assertTrue(JobSubmitter.newestRetainedCheckpoint(dir.resolve("missing")).isEmpty());
    }

    @Test
    void configOverridesAndRelativePathsAreResolved() {
        ClusterConfig c = ClusterConfig.of(Map.of("io.tmp.dirs", "a/tmp, /abs/tmp", "execution.checkpointing.dir", "cp",
                        "execution.checkpointing.savepoint-dir", "s3://bucket/sp", "rest.port", "8081"))
                .with("rest.port", "9999").resolvePaths(Path.of("/home"));
        assertEquals(List.of(Path.of("/home/a/tmp"), Path.of("/abs/tmp")), c.tmpDirs());
        assertEquals("file:///home/cp", c.get("execution.checkpointing.dir"));
        assertEquals("s3://bucket/sp", c.get("execution.checkpointing.savepoint-dir"));
        assertEquals("http://localhost:9999", c.restUrl());
    }

    @Test
    void scriptsSplitAtSemicolonsOutsideQuotesAndComments() {
        String script = "-- a comment; with a semicolon\nSELECT 'a;b' AS x; /* block; */ SELECT `c;d` FROM t;\n\n";
        assertEquals(List.of("SELECT 'a;b' AS x", "SELECT `c;d` FROM t"), SqlScripts.statements(script));
        assertEquals("SELECT 'it''s'", SqlScripts.substitute("SELECT '${v}'", Map.of("v", "it's")));
        assertThrows(IllegalArgumentException.class, () -> SqlScripts.substitute("${missing}", Map.of()));
    }

    @Test
    void resultsPrintAsTableCsvAndJson() {
        FlinkSql.Result r = new FlinkSql.Result("SELECT", List.of("name", "n", "at"), List.of(
                Arrays.asList("a,b", 12L, LocalDateTime.parse("2026-01-02T03:04:05")),
                Arrays.asList(null, 0.125, null)));
        String table = ResultFormatter.format(r, ResultFormatter.Format.TABLE);
        assertTrue(table.contains("| a,b  |    12 | 2026-01-02T03:04:05 |"), table);
        assertTrue(table.contains("| NULL | 0.125 | NULL"), table);
        assertTrue(table.endsWith("2 rows\n"), table);
        assertEquals("name,n,at\r\n\"a,b\",12,2026-01-02T03:04:05\r\n,0.125,\r\n", ResultFormatter.format(r, ResultFormatter.Format.CSV));
        String json = ResultFormatter.format(r, ResultFormatter.Format.JSON).replaceAll("\\s", "");
        assertEquals("[{\"name\":\"a,b\",\"n\":12,\"at\":\"2026-01-02T03:04:05\"},{\"name\":null,\"n\":0.125,\"at\":null}]", json);
    }
}
