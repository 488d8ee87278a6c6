package io.cosmichorizons.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.cluster.FlinkRuntime;
import io.cosmichorizons.cluster.JobJar;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.testbed.RealServices;
import io.cosmichorizons.verification.AuditChecks;
import io.cosmichorizons.verification.Comparison;
import io.cosmichorizons.verification.Finding;
import io.cosmichorizons.verification.LifecycleChecks;
import io.cosmichorizons.verification.OutputComparison;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.verification.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shortened chaos run of CI (issue 7): every job on the real local cluster, 20,000 generated events with bad
 * records injected, fuzzed records in every input topic, one TaskManager killed right after a completed checkpoint and
 * PostgreSQL stopped for 20 s; every output compared with the ground truth. Then the comparison itself is shown to
 * fail when it should, on copies of these outputs with faults planted in them.
 */
@ExtendWith(RealServices.class)
class ChaosITCase {

    @TempDir
    static Path tmp;

    static ChaosRun run;
    static ChaosRun.Result result;

    @BeforeAll
    static void runChaos() throws Exception {
        TestStack stack = TestStack.create("chaos");
        Path home = FlinkRuntime.home();
        run = new ChaosRun(ChaosOptions.shortRun(), new ChaosRun.Environment(RealServices.bootstrapServers(),
                stack.jdbcUrl, stack.prefix, RealServices.kafka(), RealServices.postgres(), home, tmp.resolve("cluster"),
                JobJar.locate(home), Optional.empty()), line -> System.out.println("chaos: " + line));
        result = run.run();
    }

    @Test
    void everyOutputEqualsTheGroundTruthThroughTheFaults() {
        assertTrue(result.events() >= 20_000, "a run of at least 20,000 events: " + result.events());
        assertTrue(result.comparison().passed(), result.comparison()::render);
        List<String> faults = result.recoveries().stream().map(ChaosRun.Recovery::fault).toList();
        assertEquals(2, faults.size(), faults::toString);
        for (ChaosRun.Recovery r : result.recoveries()) {
            assertNotNull(r.toCheckpoint(), () -> "no checkpoint after " + r);
        }
        assertEquals(0, result.restartsDuringFuzzing(), "job restarts caused by the fuzzed records");
    }

    /** A duplicated notification and a missing audit row, planted in copies of the real outputs, are reported. */
    @Test
    void theComparisonReportsPlantedFaults() {
        OutputSnapshot real = result.outputs();
        assertTrue(compare(real).passed(), "the untouched copy passes");

        List<Notification> doubled = new ArrayList<>(real.notifications());
        doubled.add(doubled.get(doubled.size() / 2));
        Comparison withDuplicate = compare(real.withNotifications(doubled));
        assertEquals(List.of(LifecycleChecks.NOTIFICATIONS_TOPIC), failedChecks(withDuplicate), withDuplicate::render);
        Finding duplicate = withDuplicate.finding(LifecycleChecks.NOTIFICATIONS_TOPIC);
        assertEquals(1, duplicate.differenceCount());
        assertTrue(duplicate.differences().get(0).contains(doubled.get(doubled.size() - 1).getJobId() + ": 2 notifications"),
                duplicate::toString);

        List<Map<String, Object>> audit = new ArrayList<>(real.table(OutputSnapshot.AUDIT_EVENTS));
        // An entry in the middle of its chain (seq 1 has a successor in every chain of this run).
        Map<String, Object> removed = audit.stream().filter(r -> ((Number) r.get("seq")).longValue() == 1).findFirst()
                .orElseThrow();
        audit.remove(removed);
        Comparison withGap = compare(real.withTable(OutputSnapshot.AUDIT_EVENTS, audit));
        assertEquals(List.of(AuditChecks.ONE_ENTRY_PER_EVENT, AuditChecks.NO_FORK_NO_GAP), failedChecks(withGap),
                withGap::render);
        assertTrue(withGap.finding(AuditChecks.ONE_ENTRY_PER_EVENT).differences().get(0)
                .contains(removed.get("event_id") + ": 0 entries"), withGap::render);
        assertFalse(withGap.finding(AuditChecks.NO_FORK_NO_GAP).differences().isEmpty());
        assertTrue(withGap.finding(AuditChecks.NO_FORK_NO_GAP).differences().stream()
                .anyMatch(d -> d.startsWith(removed.get("chain_id") + ": gap")), withGap::render);
    }

    private static Comparison compare(OutputSnapshot outputs) {
        return OutputComparison.compare(result.published(), outputs, Pipeline.ALL, run.alertRules());
    }

    private static List<String> failedChecks(Comparison c) {
        return c.failures().stream().map(Finding::check).toList();
    }
}
