package io.cosmichorizons.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the hook scripts' spool: records as the real hooks wrote them on Slurm 22.05. */
class HookSpoolTest {
    @TempDir
    Path dir;

    static final String PROLOG = "{\"hook\":\"prolog\",\"time\":\"1795823133\",\"cluster\":\"horizons\",\"job_id\":\"13\","
            + "\"array_job_id\":\"11\",\"array_task_id\":\"1\",\"user\":\"root\",\"name\":\"wrap\",\"partition\":\"debug\","
            + "\"comment\":\"corr:xyz\",\"node_count\":\"1\",\"nodes\":\"vm\",\"restarts\":\"0\",\"work_dir\":\"/work\"}";
    static final String JOBCOMP = "{\"hook\":\"jobcomp\",\"time\":\"1795823134\",\"cluster\":\"\",\"job_id\":\"12\","
            + "\"array_job_id\":\"0\",\"array_task_id\":\"4294967294\",\"user\":\"root\",\"name\":\"wrap\","
            + "\"partition\":\"debug\",\"state\":\"TIMEOUT\",\"exit_code\":\"0:15\",\"submit\":\"1795823132\","
            + "\"start\":\"1795823133\",\"end\":\"1795823194\",\"node_count\":\"1\",\"nodes\":\"vm\",\"cpus\":\"1\","
            + "\"limit\":\"00:01:00\",\"work_dir\":\"/work\",\"stdout\":\"/work/out-%j.txt\",\"reason\":\"None\"}";
    static final String HELD_CANCELLED = "{\"hook\":\"jobcomp\",\"time\":\"1795822903\",\"job_id\":\"3\","
            + "\"array_job_id\":\"0\",\"array_task_id\":\"4294967294\",\"user\":\"root\",\"state\":\"CANCELLED\","
            + "\"exit_code\":\"0:0\",\"submit\":\"1795822883\",\"start\":\"1795822903\",\"end\":\"1795822903\","
            + "\"node_count\":\"0\",\"nodes\":\"\",\"cpus\":\"0\",\"limit\":\"UNLIMITED\",\"reason\":\"JobHeldUser\"}";
    static final String ARRAY_REMAINDER = "{\"hook\":\"jobcomp\",\"time\":\"1795823305\",\"job_id\":\"20\","
            + "\"array_job_id\":\"20\",\"array_task_id\":\"4294967294\",\"user\":\"root\",\"state\":\"CANCELLED\"}";

    @Test
    void readsCompleteLinesOnceAndLeavesAPartialLineForLater() throws IOException {
        Path file = dir.resolve("spool.jsonl");
        HookSpool spool = new HookSpool(file);
        assertEquals(HookSpool.Position.START, spool.end());
        Files.writeString(file, PROLOG + "\n" + "not json\n" + JOBCOMP.substring(0, 40));

        HookSpool.Batch first = spool.read(HookSpool.Position.START);
        assertEquals(1, first.records().size());
        assertEquals(List.of("not json"), first.malformed());
        SlurmJob started = first.records().get(0);
        assertEquals("11_1", started.key());
        assertEquals("11", started.submission());
        assertEquals(SlurmState.RUNNING, started.state());
        assertEquals(1795823133L, started.startTime());
        assertEquals("corr:xyz", started.comment());

        Files.writeString(file, JOBCOMP.substring(40) + "\n", StandardOpenOption.APPEND);
        HookSpool.Batch second = spool.read(first.next());
        SlurmJob ended = second.records().get(0);
        assertEquals("12", ended.key());
        assertEquals(SlurmState.TIMEOUT, ended.state());
        assertEquals(1L, ended.timeLimitMinutes());
        assertEquals(0, ended.exitCode());
        assertEquals(15, ended.signal());
        assertEquals("/work/out-12.txt", ended.outputRef());
        assertEquals(0, spool.read(second.next()).records().size());
    }

    @Test
    void aRotatedSpoolIsReadFromItsStart() throws IOException {
        Path file = dir.resolve("spool.jsonl");
        Files.writeString(file, PROLOG + "\n" + JOBCOMP + "\n");
        HookSpool spool = new HookSpool(file);
        HookSpool.Position end = spool.end();
        Files.move(file, dir.resolve("spool.jsonl.1"));
        Files.writeString(file, HELD_CANCELLED + "\n" + PROLOG + "\n" + JOBCOMP + "\n" + JOBCOMP + "\n");
        HookSpool.Batch batch = spool.read(end);
        assertTrue(batch.restarted());
        assertEquals(4, batch.records().size());
    }

    @Test
    void aJobCancelledWhilePendingNeverRanAndAnArrayRemainderIsNoJob() throws IOException {
        SlurmJob held = HookSpool.parse(HELD_CANCELLED);
        assertFalse(held.ran());
        assertEquals(0, held.startTime(), "Slurm sets start = end for a job cancelled while pending");
        assertNull(held.timeLimitMinutes());
        assertNull(HookSpool.parse(ARRAY_REMAINDER));
    }

    @Test
    void parsesSlurmTimeLimits() {
        assertEquals(1L, HookSpool.timeLimitMinutes("00:01:00"));
        assertEquals(365L * 1440, HookSpool.timeLimitMinutes("365-00:00:00"));
        assertEquals(90L, HookSpool.timeLimitMinutes("1:30:00"));
        assertEquals(2L, HookSpool.timeLimitMinutes("01:30"));
        assertEquals(5L, HookSpool.timeLimitMinutes("5"));
        assertNull(HookSpool.timeLimitMinutes("UNLIMITED"));
    }
}
