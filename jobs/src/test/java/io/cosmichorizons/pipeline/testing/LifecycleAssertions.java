package io.cosmichorizons.pipeline.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.DeadLetterReason;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.topics.Topics;
import io.cosmichorizons.verification.Comparison;
import io.cosmichorizons.verification.DeadLetterChecks;
import io.cosmichorizons.verification.Finding;
import io.cosmichorizons.verification.LifecycleChecks;
import io.cosmichorizons.verification.OutputSnapshot;
import io.cosmichorizons.verification.Pipeline;
import io.cosmichorizons.verification.PublishedInputs;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * JUnit assertions over the findings of the output comparison ({@code io.cosmichorizons.verification}) for the
 * lifecycle job's outputs (job_status, notifications, dead letters), shared by the MiniCluster ITCases and the
 * standalone-cluster ITCase of the cluster module.
 */
public final class LifecycleAssertions {

    private LifecycleAssertions() {}

    /** Fails with every failed finding and its first differences. */
    public static void assertPassed(Finding... findings) {
        assertPassed(new Comparison(List.of(findings)));
    }

    public static void assertPassed(Comparison comparison) {
        assertTrue(comparison.passed(), comparison::render);
    }

    /** The dead-letter reasons the injected lifecycle records must get (OUT_OF_ORDER records are accepted). */
    public static List<DeadLetterReason> expectedLifecycleDeadLetters(GroundTruth truth, TestStack stack) {
        return truth.injected().stream()
                .filter(i -> i.topic().equals(stack.topic(Topics.JOB_LIFECYCLE)) && i.expectedReason() != null)
                .map(GroundTruth.Injected::expectedReason)
                .toList();
    }

    /** Every job_status row equals the ground truth's job; no other rows, except {@code orphan*} ones. */
    public static void assertJobStatusEqualsGroundTruth(TestStack stack, GroundTruth truth) throws SQLException {
        assertPassed(LifecycleChecks.jobStatus(truth, stack.outputs()));
    }

    /** Exactly one committed notification per job end, of the right kind and id, on the topic and in the table. */
    public static void assertOneNotificationPerJobEnd(TestStack stack, GroundTruth truth) throws SQLException {
        OutputSnapshot out = stack.outputs();
        assertPassed(LifecycleChecks.notificationsTopic(truth, out), LifecycleChecks.notificationsTable(truth, out));
    }

    /** The lifecycle job's dead letters are exactly the injected bad lifecycle records: same reason and key, same count. */
    public static void assertDeadLettersAreExactlyTheInjectedOnes(TestStack stack, GroundTruth truth) throws SQLException {
        PublishedInputs published = PublishedInputs.groundTruthOnly(truth);
        assertPassed(DeadLetterChecks.injected(published, stack.outputs(), Pipeline.LIFECYCLE));
    }

    /** Committed notifications on the stack's notifications topic. */
    public static long countCommitted(TestStack stack) {
        return TestStack.readAll(stack.topic(Topics.JOB_NOTIFICATIONS), Notification.class, Notification.getClassSchema()).size();
    }

    /** job_status rows in a terminal state. */
    public static long finishedRows(TestStack stack) {
        try (Connection c = DriverManager.getConnection(stack.jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM job_status WHERE status IN ('COMPLETED','FAILED','CANCELLED')")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
