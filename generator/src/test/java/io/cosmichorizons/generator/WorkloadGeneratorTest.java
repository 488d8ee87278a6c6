package io.cosmichorizons.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.JobMetricsEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.events.internal.InputEnvelope;
import io.cosmichorizons.publisher.TopicNames;
import io.cosmichorizons.publisher.WireFormat;
import io.cosmichorizons.serde.EventDecoder;
import io.cosmichorizons.serde.EventKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Planning only, no Kafka: determinism, distributions, valid paths and the tagging of injected records. */
class WorkloadGeneratorTest {
    private static final Instant START = Instant.parse("2026-11-27T10:00:00Z");
    private static final GeneratorConfig.Injection SOME_OF_EVERYTHING = new GeneratorConfig.Injection(0.02, 0.05, 0.03);

    private static GeneratorConfig.Builder config(int jobs, long seed) {
        return GeneratorConfig.builder().jobs(jobs).seed(seed).startTime(START);
    }

    @Test
    void sameSeedGivesByteIdenticalRecordsInTheSameOrder() {
        GeneratorConfig config = config(300, 42).inject(SOME_OF_EVERYTHING).build();

        List<ProducerRecord<byte[], byte[]>> first = wire(new WorkloadPlanner(config).planAll().records(), config.format());
        List<ProducerRecord<byte[], byte[]>> second = wire(new WorkloadPlanner(config).planAll().records(), config.format());

        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) {
            assertSameRecord(first.get(i), second.get(i), "record " + i);
        }
    }

    @Test
    void sameSeedGivesTheSameGroundTruth() {
        GeneratorConfig config = config(200, 42).inject(SOME_OF_EVERYTHING).build();

        assertEquals(new WorkloadPlanner(config).planAll().groundTruth(), new WorkloadPlanner(config).planAll().groundTruth());
    }

    @Test
    void differentSeedsGiveDifferentWorkloads() {
        WorkloadPlanner.PlannedWorkload a = new WorkloadPlanner(config(200, 1).build()).planAll();
        WorkloadPlanner.PlannedWorkload b = new WorkloadPlanner(config(200, 2).build()).planAll();

        Set<String> idsA = a.groundTruth().jobs().stream().flatMap(j -> j.lifecycle().stream()).map(GroundTruth.Step::eventId)
                .collect(Collectors.toSet());
        assertTrue(b.groundTruth().jobs().stream().flatMap(j -> j.lifecycle().stream())
                .noneMatch(s -> idsA.contains(s.eventId())), "event ids differ");
        assertNotEquals(a.groundTruth().jobs().get(0).jobId(), b.groundTruth().jobs().get(0).jobId(), "job ids differ");
        assertNotEquals(outcomes(a.groundTruth()), outcomes(b.groundTruth()));
    }

    @Test
    void injectionRatesDoNotChangeTheValidWorkload() {
        GroundTruth clean = new WorkloadPlanner(config(200, 7).build()).planAll().groundTruth();
        GroundTruth dirty = new WorkloadPlanner(config(200, 7).inject(SOME_OF_EVERYTHING).build()).planAll().groundTruth();

        assertEquals(clean.jobs(), dirty.jobs());
        assertEquals(clean.totals().validEventsPerType(), dirty.totals().validEventsPerType());
    }

    @Test
    void outcomeMixIsWithinToleranceFor5000Jobs() {
        GroundTruth truth = new WorkloadPlanner(config(5_000, 3).build()).planAll().groundTruth();

        Map<LifecycleEventType, Long> outcomes = outcomes(truth);
        assertEquals(0.80, outcomes.get(LifecycleEventType.COMPLETED) / 5000.0, 0.02, outcomes.toString());
        assertEquals(0.12, outcomes.get(LifecycleEventType.FAILED) / 5000.0, 0.015, outcomes.toString());
        assertEquals(0.08, outcomes.get(LifecycleEventType.CANCELLED) / 5000.0, 0.015, outcomes.toString());

        long rejections = truth.jobs().stream().filter(j -> j.finalStatus() == LifecycleEventType.FAILED)
                .filter(j -> j.startedAt() == null).count();
        assertTrue(rejections > 0 && rejections < outcomes.get(LifecycleEventType.FAILED) / 3,
                "scheduler rejections are a minority of failures: " + rejections);
        Map<Integer, Long> cancelledAfterSteps = truth.jobs().stream()
                .filter(j -> j.finalStatus() == LifecycleEventType.CANCELLED)
                .collect(Collectors.groupingBy(j -> j.lifecycle().size() - 1, Collectors.counting()));
        assertEquals(Set.of(1, 2, 3), cancelledAfterSteps.keySet(), "cancelled after SUBMITTED, QUEUED and RUNNING");
    }

    @Test
    void queueWaitsAndRunTimesHavePlausibleMedians() {
        GroundTruth truth = new WorkloadPlanner(config(5_000, 3).build()).planAll().groundTruth();

        List<Long> waits = truth.jobs().stream().filter(j -> j.startedAt() != null).map(GroundTruth.Job::queueWaitMs).sorted().toList();
        List<Long> runs = truth.jobs().stream().filter(j -> j.finalStatus() == LifecycleEventType.COMPLETED)
                .map(GroundTruth.Job::runMs).sorted().toList();
        long medianWait = waits.get(waits.size() / 2);
        long medianRun = runs.get(runs.size() / 2);
        assertTrue(medianWait > 60_000 && medianWait < 240_000, "median queue wait " + medianWait);
        assertTrue(medianRun > 4 * 60_000 && medianRun < 15 * 60_000, "median run time " + medianRun);
        assertTrue(waits.get(waits.size() - 1) > 10 * medianWait, "queue waits have a long tail");
        for (GroundTruth.Job job : truth.jobs()) {
            if (job.finalStatus() == LifecycleEventType.COMPLETED) {
                assertTrue(job.runMs() < job.requestedWalltimeMs(), "completed within walltime: " + job.jobId());
            }
        }
    }

    @Test
    void everyLifecycleFollowsAValidPath() {
        WorkloadPlanner.PlannedWorkload plan = new WorkloadPlanner(config(2_000, 5).inject(SOME_OF_EVERYTHING).build()).planAll();

        Set<List<LifecycleEventType>> validPaths = Set.of(
                path("SUBMITTED", "QUEUED", "RUNNING", "COMPLETED"),
                path("SUBMITTED", "QUEUED", "RUNNING", "FAILED"),
                path("SUBMITTED", "QUEUED", "RUNNING", "CANCELLED"),
                path("SUBMITTED", "QUEUED", "FAILED"),
                path("SUBMITTED", "QUEUED", "CANCELLED"),
                path("SUBMITTED", "CANCELLED"));
        // The published valid events, per job, in event-time order (out-of-order publishing is undone by the sort).
        Map<String, List<JobLifecycleEvent>> published = new HashMap<>();
        for (PlannedRecord record : plan.records()) {
            if (record instanceof PlannedRecord.ValidEvent valid && valid.event() instanceof JobLifecycleEvent e) {
                published.computeIfAbsent(e.getJobId(), k -> new ArrayList<>()).add(e);
            }
        }
        assertEquals(2_000, published.size());
        for (GroundTruth.Job job : plan.groundTruth().jobs()) {
            List<LifecycleEventType> types = job.lifecycle().stream().map(GroundTruth.Step::type).toList();
            assertTrue(validPaths.contains(types), job.jobId() + " took " + types);
            assertEquals(job.finalStatus(), types.get(types.size() - 1));
            for (int i = 1; i < job.lifecycle().size(); i++) {
                assertTrue(job.lifecycle().get(i).occurredAt() > job.lifecycle().get(i - 1).occurredAt(),
                        "strictly increasing event times in " + job.jobId());
            }
            List<String> publishedIds = published.get(job.jobId()).stream()
                    .sorted((x, y) -> x.getOccurredAt().compareTo(y.getOccurredAt()))
                    .map(JobLifecycleEvent::getEventId).toList();
            assertEquals(job.lifecycle().stream().map(GroundTruth.Step::eventId).toList(), publishedIds,
                    "each valid step published exactly once: " + job.jobId());
        }
    }

    @Test
    void timelineIsInEventTimeOrderWithoutInjections() {
        List<PlannedRecord> records = new WorkloadPlanner(config(1_000, 9).build()).planAll().records();

        for (int i = 1; i < records.size(); i++) {
            assertTrue(records.get(i).timestamp() >= records.get(i - 1).timestamp(), "record " + i + " goes back in time");
        }
        assertTrue(records.stream().noneMatch(r -> r instanceof PlannedRecord.RawRecord));
    }

    @Test
    void metricsSamplesFallWithinTheRunAndMatchTheGroundTruth() {
        WorkloadPlanner.PlannedWorkload plan = new WorkloadPlanner(config(500, 11).metricsIntervalSeconds(30).build()).planAll();

        Map<String, List<JobMetricsEvent>> samples = new HashMap<>();
        for (PlannedRecord record : plan.records()) {
            if (record instanceof PlannedRecord.ValidEvent valid && valid.event() instanceof JobMetricsEvent m) {
                samples.computeIfAbsent(m.getJobId(), k -> new ArrayList<>()).add(m);
            }
        }
        int resets = 0;
        for (GroundTruth.Job job : plan.groundTruth().jobs()) {
            List<JobMetricsEvent> own = samples.getOrDefault(job.jobId(), List.of());
            assertEquals(job.metricsSamples(), own.size(), job.jobId());
            for (int i = 0; i < own.size(); i++) {
                JobMetricsEvent m = own.get(i);
                long at = m.getSampledAt().toEpochMilli();
                assertTrue(at > job.startedAt() && at < job.endedAt(), "sample inside the run of " + job.jobId());
                assertEquals(at - job.startedAt(), m.getExecutionTimeMs());
                assertTrue(m.getCpuPercent() <= job.requestedCores() * 100.0);
                assertEquals(job.queue().equals("gpu"), m.getGpuUtilizationPercent() != null);
                if (i > 0 && m.getIoReadBytes() < own.get(i - 1).getIoReadBytes()) {
                    resets++;
                }
            }
        }
        assertTrue(plan.groundTruth().totals().validEventsPerType().get("JobMetricsEvent") > 5_000);
        assertTrue(resets > 0 && resets < 30, "a few counter resets: " + resets);
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void injectedRecordsAreTaggedWithTheReasonThePipelineGives(WireFormat format) {
        GeneratorConfig config = config(1_000, 13).format(format).inject(new GeneratorConfig.Injection(0.02, 0.05, 0.03)).build();
        WorkloadPlanner.PlannedWorkload plan = new WorkloadPlanner(config).planAll();

        EventDecoder decoder = new EventDecoder(EventKind.LIFECYCLE);
        Set<String> seenEventIds = new HashSet<>();
        Map<InjectionKind, Integer> verified = new EnumMap<>(InjectionKind.class);
        long offset = 0;
        for (PlannedRecord record : plan.records()) {
            if (!record.topic().equals(config.topics().lifecycle())) {
                continue;
            }
            ProducerRecord<byte[], byte[]> wire = record.toProducerRecord(config.format());
            InputEnvelope decoded = decoder.decode(wire.topic(), 0, offset++, wire.timestamp(), wire.key(), wire.value());
            if (record instanceof PlannedRecord.RawRecord raw && raw.kind() != InjectionKind.DUPLICATE) {
                assertNotNull(decoded.getDeadLetter(), raw.kind() + " must be rejected");
                assertEquals(raw.kind().expectedReason(), decoded.getDeadLetter().getReason(),
                        raw.kind() + ": " + decoded.getDeadLetter().getMessage());
            } else {
                assertNull(decoded.getDeadLetter(), () -> "valid record rejected: " + decoded.getDeadLetter());
                String eventId = ((JobLifecycleEvent) decoded.getEvent()).getEventId();
                boolean isDuplicate = record instanceof PlannedRecord.RawRecord;
                assertEquals(isDuplicate, !seenEventIds.add(eventId), "a duplicate repeats an earlier event id, nothing else does");
            }
            InjectionKind kind = record instanceof PlannedRecord.RawRecord raw ? raw.kind() : null;
            if (kind != null) {
                verified.merge(kind, 1, Integer::sum);
            }
        }
        Map<InjectionKind, Long> truthCounts = plan.groundTruth().totals().injectedPerKind();
        for (InjectionKind kind : InjectionKind.values()) {
            if (kind != InjectionKind.OUT_OF_ORDER) {
                assertTrue(verified.getOrDefault(kind, 0) > 0, "no " + kind + " was injected");
                assertEquals(truthCounts.get(kind).intValue(), verified.get(kind), kind.name());
            }
        }
        assertEquals(plan.groundTruth().injected().size(), truthCounts.values().stream().mapToLong(Long::longValue).sum());
        assertTrue(plan.groundTruth().injected().stream().allMatch(i -> i.expectedReason() == i.kind().expectedReason()));
    }

    @Test
    void outOfOrderEventsArePublishedRightAfterTheirSuccessor() {
        GeneratorConfig config = config(1_000, 17).inject(new GeneratorConfig.Injection(0, 0.2, 0)).build();
        WorkloadPlanner.PlannedWorkload plan = new WorkloadPlanner(config).planAll();

        List<JobLifecycleEvent> lifecycle = plan.records().stream()
                .filter(r -> r instanceof PlannedRecord.ValidEvent v && v.event() instanceof JobLifecycleEvent)
                .map(r -> (JobLifecycleEvent) ((PlannedRecord.ValidEvent) r).event()).toList();
        Map<String, GroundTruth.Injected> swapped = plan.groundTruth().injected().stream()
                .collect(Collectors.toMap(GroundTruth.Injected::eventId, Function.identity()));
        assertTrue(swapped.size() > 50, "swaps: " + swapped.size());
        Map<String, JobLifecycleEvent> lastOfJob = new HashMap<>();
        int found = 0;
        for (JobLifecycleEvent e : lifecycle) {
            JobLifecycleEvent previous = lastOfJob.put(e.getJobId(), e);
            boolean late = previous != null && e.getOccurredAt().isBefore(previous.getOccurredAt());
            assertEquals(swapped.containsKey(e.getEventId()), late, "only tagged events arrive late: " + e.getEventId());
            if (late) {
                found++;
                assertEquals(InjectionKind.OUT_OF_ORDER, swapped.get(e.getEventId()).kind());
                assertNull(swapped.get(e.getEventId()).expectedReason(), "the pipeline must accept it");
                long gap = previous.getOccurredAt().toEpochMilli() - e.getOccurredAt().toEpochMilli();
                assertTrue(gap <= config.inject().outOfOrderMaxGap().toMillis(), "gap " + gap);
            }
        }
        assertEquals(swapped.size(), found);
    }

    @Test
    void groundTruthSurvivesTheFileRoundTrip(@TempDir Path dir) throws Exception {
        GroundTruth truth = new WorkloadPlanner(config(300, 19).inject(SOME_OF_EVERYTHING).build()).planAll().groundTruth();
        Path file = dir.resolve("truth.jsonl");

        truth.write(file);

        assertEquals(truth, GroundTruth.read(file));
        assertTrue(Files.readAllLines(file).get(0).startsWith("{\"record\":\"run\""));
    }

    @Test
    void streamingWriterProducesTheSameFileAsTheCollector(@TempDir Path dir) throws Exception {
        GeneratorConfig config = config(300, 23).inject(SOME_OF_EVERYTHING).build();
        Path streamed = dir.resolve("streamed.jsonl");
        try (GroundTruthWriter writer = new GroundTruthWriter(streamed)) {
            new WorkloadPlanner(config).plan(record -> {}, writer);
        }

        GroundTruth collected = new WorkloadPlanner(config).planAll().groundTruth();
        GroundTruth fromFile = GroundTruth.read(streamed);
        assertEquals(collected.jobs(), fromFile.jobs());
        assertEquals(collected.injected(), fromFile.injected());
        assertEquals(collected.totals(), fromFile.totals());
    }

    @Test
    void groundTruthCountsMatchThePlannedRecords() {
        GeneratorConfig config = config(500, 29).inject(SOME_OF_EVERYTHING).format(WireFormat.JSON)
                .topics(TopicNames.defaults().withPrefix("t-")).build();
        WorkloadPlanner.PlannedWorkload plan = new WorkloadPlanner(config).planAll();

        GroundTruth.Totals totals = plan.groundTruth().totals();
        assertEquals(plan.records().size(), totals.records());
        assertEquals(plan.records().stream().collect(Collectors.groupingBy(PlannedRecord::topic, Collectors.counting())),
                totals.recordsPerTopic());
        long lifecycleEvents = plan.groundTruth().jobs().stream().mapToLong(j -> j.lifecycle().size()).sum();
        long lifecycleByType = Arrays.stream(LifecycleEventType.values())
                .mapToLong(t -> totals.validEventsPerType().getOrDefault(t.name(), 0L)).sum();
        assertEquals(lifecycleEvents, lifecycleByType);
        assertEquals(500L, totals.validEventsPerType().get("job.submit"));
        assertEquals(totals.validEventsPerType().get("CANCELLED"), totals.validEventsPerType().get("job.cancel"));
        assertEquals(plan.groundTruth().jobs().stream().mapToLong(GroundTruth.Job::metricsSamples).sum(),
                totals.validEventsPerType().get("JobMetricsEvent"));
        assertEquals(plan.groundTruth().preferences().size(), totals.validEventsPerType().get("NotificationPreference"));
        assertEquals(config.topics().lifecycle(), plan.groundTruth().injected().get(0).topic());
        assertEquals(plan.records().stream().mapToLong(PlannedRecord::timestamp).min().orElseThrow(), totals.earliestTimestamp());
        assertEquals(plan.records().stream().mapToLong(PlannedRecord::timestamp).max().orElseThrow(), totals.latestTimestamp());
        assertEquals(totals, new WorkloadPlanner(config).plannedTotals());
    }

    @Test
    void usersAndPreferencesLookRealistic() {
        GroundTruth truth = new WorkloadPlanner(config(2_000, 31).users(50).build()).planAll().groundTruth();

        Set<String> users = truth.jobs().stream().map(GroundTruth.Job::userId).collect(Collectors.toSet());
        assertTrue(users.size() > 30 && users.stream().allMatch(u -> u.matches("user-00[0-4]\\d")), users.toString());
        assertFalse(truth.preferences().isEmpty());
        assertTrue(truth.preferences().stream().anyMatch(GroundTruth.Preference::muted));
        GroundTruth.Preference muted = truth.preferences().stream().filter(GroundTruth.Preference::muted).findFirst().orElseThrow();
        assertEquals(List.of(), truth.channelsFor(muted.userId()));
        assertEquals(GroundTruth.DEFAULT_CHANNELS, truth.channelsFor("user-nobody"));
        Set<String> systems = truth.jobs().stream().map(GroundTruth.Job::hpcSystem).collect(Collectors.toSet());
        assertEquals(Set.of("setonix", "gadi", "perlmutter", "frontier"), systems);
    }

    @Test
    void submissionsAreSpreadOverTheWindow() {
        GroundTruth truth = new WorkloadPlanner(config(1_000, 37).submissionWindow(Duration.ofHours(2)).build())
                .planAll().groundTruth();

        List<Long> submitted = truth.jobs().stream().map(GroundTruth.Job::submittedAt).toList();
        long start = START.toEpochMilli();
        long end = start + Duration.ofHours(2).toMillis();
        assertTrue(submitted.stream().allMatch(t -> t >= start && t <= end));
        long firstHalf = submitted.stream().filter(t -> t < start + Duration.ofHours(1).toMillis()).count();
        assertEquals(500, firstHalf, 60);
    }

    @Test
    void tokenBucketPacesWithoutParkingPerRecord() {
        long[] clock = {0};
        int[] parks = {0};
        TokenBucket bucket = new TokenBucket(10_000, () -> clock[0], nanos -> {
            parks[0]++;
            clock[0] += nanos;
        });

        for (int i = 0; i < 20_000; i++) {
            bucket.acquire();
        }

        assertEquals(2.0, clock[0] / 1e9, 0.05, "20,000 records at 10,000/s take two seconds");
        assertTrue(parks[0] <= 250, "parks: " + parks[0]);
    }

    private static List<LifecycleEventType> path(String... types) {
        return Arrays.stream(types).map(LifecycleEventType::valueOf).toList();
    }

    private static Map<LifecycleEventType, Long> outcomes(GroundTruth truth) {
        return truth.jobs().stream().collect(Collectors.groupingBy(GroundTruth.Job::finalStatus,
                () -> new EnumMap<>(LifecycleEventType.class), Collectors.counting()));
    }

    private static List<ProducerRecord<byte[], byte[]>> wire(List<PlannedRecord> records, WireFormat format) {
        return records.stream().map(r -> r.toProducerRecord(format)).toList();
    }

    private static void assertSameRecord(ProducerRecord<byte[], byte[]> a, ProducerRecord<byte[], byte[]> b, String what) {
        assertEquals(a.topic(), b.topic(), what);
        assertArrayEquals(a.key(), b.key(), what);
        assertArrayEquals(a.value(), b.value(), what);
        assertEquals(a.timestamp(), b.timestamp(), what);
        Header[] ha = a.headers().toArray();
        Header[] hb = b.headers().toArray();
        assertEquals(ha.length, hb.length, what);
        for (int i = 0; i < ha.length; i++) {
            assertEquals(ha[i].key(), hb[i].key(), what);
            assertArrayEquals(ha[i].value(), hb[i].value(), what);
        }
    }
}
