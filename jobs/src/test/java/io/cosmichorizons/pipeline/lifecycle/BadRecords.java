package io.cosmichorizons.pipeline.lifecycle;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.generator.GroundTruth;
import io.cosmichorizons.pipeline.testing.TestStack;
import io.cosmichorizons.publisher.EventPublisher;
import io.cosmichorizons.testbed.RealServices;
import java.time.Instant;

/** Valid events in invalid places: what the generator's injection does not cover. */
final class BadRecords {
    private static final long ORPHAN_START = Instant.now().minusSeconds(3_600).toEpochMilli();

    private BadRecords() {}

    /** QUEUED, RUNNING, COMPLETED of a job whose SUBMITTED never comes. */
    static void publishOrphanedJob(TestStack stack, String jobId) throws Exception {
        try (EventPublisher publisher = publisher(stack)) {
            long t = ORPHAN_START;
            for (LifecycleEventType type : new LifecycleEventType[] {LifecycleEventType.QUEUED, LifecycleEventType.RUNNING,
                    LifecycleEventType.COMPLETED}) {
                JobLifecycleEvent e = LifecycleEvents.event(jobId, type, 0);
                e.setOccurredAt(Instant.ofEpochMilli(t += 60_000));
                publisher.publish(e).get();
            }
        }
    }

    /** The SUBMITTED that {@link #publishOrphanedJob} left out. */
    static void publishSubmitted(TestStack stack, String jobId) throws Exception {
        try (EventPublisher publisher = publisher(stack)) {
            JobLifecycleEvent e = LifecycleEvents.event(jobId, LifecycleEventType.SUBMITTED, 0);
            e.setOccurredAt(Instant.ofEpochMilli(ORPHAN_START));
            publisher.publish(e).get();
        }
    }

    /** A RUNNING of an already ended job, a minute after its end. */
    static void publishStepAfterEnd(TestStack stack, GroundTruth.Job ended) throws Exception {
        try (EventPublisher publisher = publisher(stack)) {
            JobLifecycleEvent e = LifecycleEvents.event(ended.jobId(), LifecycleEventType.RUNNING, 0);
            e.setEventId("0f0f0f0f-0000-4000-8000-" + String.format("%012d", Math.abs(ended.jobId().hashCode())));
            e.setUserId(ended.userId());
            e.setOccurredAt(Instant.ofEpochMilli(ended.endedAt() + 60_000));
            publisher.publish(e).get();
        }
    }

    private static EventPublisher publisher(TestStack stack) {
        return EventPublisher.builder().bootstrapServers(RealServices.bootstrapServers()).topics(stack.inputs).build();
    }
}
