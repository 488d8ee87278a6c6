package io.cosmichorizons.slurm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** squeue --json as Slurm 22.05 prints it (a captured real answer), and the later data_parser layout. */
class SqueueJsonTest {

    static String resource(String name) throws IOException {
        try (InputStream in = SqueueJsonTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsEveryKindOfJobFromARealSlurm2205Answer() throws IOException {
        Map<String, SlurmJob> jobs = SqueueJson.parse(resource("squeue-22.05.json")).stream()
                .collect(Collectors.toMap(SlurmJob::key, Function.identity()));

        SlurmJob ok = jobs.get("14");
        assertEquals(SlurmState.COMPLETED, ok.state());
        assertEquals("corr:req-42 nightly", ok.comment());
        assertEquals("root", ok.user());
        assertEquals("ok", ok.name());
        assertEquals("debug", ok.partition());
        assertTrue(ok.ran());
        assertEquals(0, ok.exitCode());
        assertEquals(19284L * 1024 * 1024, ok.memoryBytes());
        assertTrue(ok.endTime() >= ok.startTime() && ok.startTime() >= ok.submitTime() && ok.submitTime() > 0);

        SlurmJob bad = jobs.get("15");
        assertEquals(SlurmState.FAILED, bad.state());
        assertEquals("NonZeroExitCode", bad.reason());
        assertEquals(3, bad.exitCode(), "raw wait status 768 is exit 3");
        assertEquals(0, bad.signal());

        SlurmJob held = jobs.get("16");
        assertEquals(SlurmState.PENDING, held.state());
        assertEquals("JobHeldUser", held.reason());
        assertFalse(held.ran());
        assertEquals(0, held.startTime());

        SlurmJob heldCancelled = jobs.get("17");
        assertEquals(SlurmState.CANCELLED, heldCancelled.state());
        assertFalse(heldCancelled.ran(), "cancelled while pending: no nodes, although Slurm sets a start time");
        assertEquals(0, heldCancelled.startTime());

        SlurmJob running = jobs.get("18");
        assertEquals(SlurmState.RUNNING, running.state());
        assertEquals(2, running.cpus());
        assertEquals(2L * 1024 * 1024 * 1024, running.memoryBytes());
        assertEquals(10L, running.timeLimitMinutes());
        assertEquals(0, running.endTime(), "a running job's end_time is only the expected end");

        SlurmJob cancelled = jobs.get("19");
        assertEquals(SlurmState.CANCELLED, cancelled.state());
        assertTrue(cancelled.ran());
        // The batch shell exited 128 + SIGTERM (scontrol: ExitCode=143:0); a job killed before its shell reacts
        // shows 0:15 instead. Cancelled jobs' exit codes are racy, and CancelledDetails carries none.
        assertArrayEquals(new int[] {143, 0}, new int[] {cancelled.exitCode(), cancelled.signal()});

        SlurmJob task0 = jobs.get("20_0");
        assertEquals(SlurmState.RUNNING, task0.state());
        assertEquals("20", task0.submission());
        assertEquals("/tmp/fx/out-20_0.txt", task0.outputRef());
        for (String pending : List.of("20_1", "20_2", "20_3", "20_4")) {
            assertEquals(SlurmState.PENDING, jobs.get(pending).state(), pending);
            assertEquals("JobArrayTaskLimit", jobs.get(pending).reason());
            assertEquals("20", jobs.get(pending).submission());
        }
        assertEquals(11, jobs.size(), "8 rows, the array's pending row expanded into 4 tasks");
    }

    @Test
    void ranksPendingJobsByPriority() throws IOException {
        List<SlurmJob> jobs = SqueueJson.parse(resource("squeue-22.05.json"));
        Map<String, Integer> positions = jobs.stream().filter(j -> j.state() == SlurmState.PENDING)
                .collect(Collectors.toMap(SlurmJob::key, SlurmJob::queuePosition));
        // The array's tasks have a priority; the held job has priority 0 and queues behind them.
        assertEquals(Map.of("20_1", 0, "20_2", 1, "20_3", 2, "20_4", 3, "16", 4), positions);
    }

    @Test
    void readsTheLaterDataParserLayout() throws IOException {
        String json = """
                {"jobs": [{
                  "job_id": 77, "array_job_id": {"set": true, "infinite": false, "number": 0},
                  "array_task_id": {"set": false, "infinite": false, "number": 0},
                  "job_state": ["TIMEOUT"], "state_reason": "TimeLimit", "user_name": "alice", "name": "imaging",
                  "partition": "gpu", "comment": "", "nodes": "n[1-2]", "node_count": {"set": true, "number": 2},
                  "cpus": {"set": true, "infinite": false, "number": 8},
                  "submit_time": {"set": true, "infinite": false, "number": 1700000000},
                  "start_time": {"set": true, "infinite": false, "number": 1700000010},
                  "end_time": {"set": true, "infinite": false, "number": 1700000070},
                  "time_limit": {"set": true, "infinite": false, "number": 1},
                  "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0},
                                "signal": {"id": {"set": true, "number": 15}, "name": "TERM"}},
                  "tres_req_str": "cpu=8,mem=16G,node=2", "current_working_directory": "/home/alice"
                }, {
                  "job_id": 78, "job_state": ["COMPLETED", "COMPLETING"], "nodes": "n3", "user_name": "bob",
                  "submit_time": {"set": true, "number": 1700000000}, "start_time": {"set": true, "number": 1700000001},
                  "time_limit": {"set": false, "infinite": true, "number": 0}
                }], "errors": []}
                """;
        Map<String, SlurmJob> jobs = SqueueJson.parse(json).stream()
                .collect(Collectors.toMap(SlurmJob::key, Function.identity()));
        SlurmJob timedOut = jobs.get("77");
        assertEquals(SlurmState.TIMEOUT, timedOut.state());
        assertEquals(8, timedOut.cpus());
        assertEquals(2, timedOut.nodeCount());
        assertEquals(16L * 1024 * 1024 * 1024, timedOut.memoryBytes());
        assertEquals(1L, timedOut.timeLimitMinutes());
        assertEquals(1700000070L, timedOut.endTime());
        assertArrayEquals(new int[] {0, 15}, new int[] {timedOut.exitCode(), timedOut.signal()});
        assertEquals("/home/alice/slurm-77.out", timedOut.outputRef());

        SlurmJob completing = jobs.get("78");
        assertEquals(SlurmState.COMPLETING, completing.state(), "the flag decides until the epilogs finished");
        assertNull(completing.timeLimitMinutes(), "infinite");
    }

    @Test
    void expandsArrayTaskStrings() {
        assertEquals(List.of(2L, 3L, 4L, 5L), SqueueJson.expandTasks("2-5%2"));
        assertEquals(List.of(1L, 3L, 7L, 8L, 9L), SqueueJson.expandTasks("1,3,7-9"));
        assertEquals(List.of(0L, 4L, 8L, 12L), SqueueJson.expandTasks("0-15:4"));
    }

    @Test
    void decodesRawWaitStatuses() {
        ObjectMapper m = new ObjectMapper();
        assertArrayEquals(new int[] {3, 0}, SqueueJson.exitCode(m.valueToTree(768)));
        assertArrayEquals(new int[] {0, 9}, SqueueJson.exitCode(m.valueToTree(9)));
        assertArrayEquals(new int[] {0, 0}, SqueueJson.exitCode(m.valueToTree(0)));
        assertArrayEquals(new int[] {-1, 0}, SqueueJson.exitCode(null));
    }

    @Test
    void slurmErrorsAreNotMistakenForAnEmptyQueue() {
        assertThrows(IOException.class, () -> SqueueJson.parse("{\"jobs\": [], \"errors\": [{\"error\": \"Unable to contact slurm controller\"}]}"));
        assertThrows(IOException.class, () -> SqueueJson.parse("{\"meta\": {}}"));
    }
}
