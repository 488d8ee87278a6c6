package io.cosmichorizons.slurm;

import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.LifecycleEventType;
import io.cosmichorizons.serde.EventValidator;
import io.cosmichorizons.serde.JsonCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Slurm bridge: polls {@code squeue --json} (and the hook spool), works out which lifecycle steps each job has
 * taken that are not yet on Kafka, and publishes them.
 *
 * <p>Restart safety: before sending, the bridge writes a journal (the events, and the topic's end offsets) into its
 * state file; after every send is acknowledged it records the steps as published and clears the journal. A bridge
 * that was killed in between reads the topic from the journalled offsets and re-sends only what is missing, so it
 * neither duplicates nor loses a step. Event ids are deterministic on top of that.
 *
 * <p>Outages: when slurmctld (or Kafka) does not answer, a cycle fails as a whole, nothing is recorded, and the bridge
 * retries with exponential back-off, logging the outage once when it starts and once when it ends; the next good
 * cycle catches up from what squeue (and the spool) show then.
 */
public final class SlurmBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlurmBridge.class);
    private static final Pattern CLUSTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    /**
     * How far in the past a Slurm time may lie. The platform's default (30 days) would refuse the SUBMITTED of a job
     * that has been pending or running longer than that; Slurm's times are true history, so the bridge allows a year.
     */
    public static final Duration MAX_EVENT_AGE = Duration.ofDays(365);
    /** How often a running bridge says what it published (when it published anything). */
    private static final Duration REPORT_EVERY = Duration.ofMinutes(1);

    /**
     * How the bridge runs.
     *
     * @param cluster the cluster's name in job ids ({@code slurm:<cluster>:<jobid>}) and in hpc_system
     * @param poll time between two polls of squeue
     * @param stateFile where the bridge keeps what it has published
     * @param spool the hook scripts' spool file, or null to use squeue only
     * @param maxBackoff the longest wait between retries while Slurm or Kafka is away
     * @param publishTimeout how long one publication may wait for Kafka's acknowledgements
     * @param lostJobRetention how long a job that left squeue without a known end stays in the state
     */
    public record Config(String cluster, Duration poll, Path stateFile, Path spool, Duration maxBackoff,
            Duration publishTimeout, Duration lostJobRetention) {
        public Config {
            Objects.requireNonNull(cluster, "cluster");
            if (!CLUSTER_NAME.matcher(cluster).matches()) {
                throw new IllegalArgumentException("cluster name '" + cluster + "' must be letters, digits, '.', '_' or '-'");
            }
            Objects.requireNonNull(stateFile, "stateFile");
            if (poll == null || poll.isNegative() || poll.isZero()) {
                throw new IllegalArgumentException("poll must be positive");
            }
        }

        /** Defaults: back-off up to 30 s, 60 s for acknowledgements, lost jobs forgotten after a day. */
        public static Config of(String cluster, Duration poll, Path stateFile, Path spool) {
            return new Config(cluster, poll, stateFile, spool, Duration.ofSeconds(30), Duration.ofSeconds(60),
                    Duration.ofDays(1));
        }
    }

    /** What one poll did. */
    public record Cycle(int jobsListed, int hookRecords, int published, int synthesized, int republished) {}

    private final Config config;
    private final Slurm slurm;
    private final EventLog log;
    private final LifecycleSteps steps;
    private final HookSpool spool;
    private final EventValidator validator = new EventValidator(MAX_EVENT_AGE);
    private final BridgeState state;
    private final Object wakeUp = new Object();
    private volatile boolean stopped;
    private volatile Cycle lastCycle;
    private long publishedTotal;

    public SlurmBridge(Config config, Slurm slurm, EventLog log) throws IOException {
        this.config = config;
        this.slurm = slurm;
        this.log = log;
        this.steps = new LifecycleSteps(config.cluster());
        this.spool = config.spool() == null ? null : new HookSpool(config.spool());
        this.state = BridgeState.load(config.stateFile(), config.cluster());
        if (spool != null && !state.spoolPositioned) {
            // A bridge without history starts at the spool's current end: squeue lists what is recent.
            HookSpool.Position end = spool.end();
            state.spoolFileKey = end.fileKey();
            state.spoolOffset = end.offset();
            state.spoolPositioned = true;
        }
    }

    public LifecycleSteps steps() {
        return steps;
    }

    /** The last successful cycle, or null. */
    public Cycle lastCycle() {
        return lastCycle;
    }

    /** Events published since start. */
    public synchronized long publishedTotal() {
        return publishedTotal;
    }

    // ------------------------------------------------------------------------------------------ the loop

    /** Polls until {@link #stop()}: one cycle per poll interval, with back-off while Slurm or Kafka is away. */
    public void run() {
        LOG.info("Slurm bridge for cluster '{}' polling every {} ms; publishing to {}; state in {}{}", config.cluster(),
                config.poll().toMillis(), log.topic(), config.stateFile(),
                spool == null ? "" : "; hook spool " + spool.path());
        Instant outageSince = null;
        String outageWhat = null;
        int failures = 0;
        Instant reportDue = Instant.now().plus(REPORT_EVERY);
        long published = 0;
        long synthesized = 0;
        while (!stopped) {
            Duration wait = config.poll();
            try {
                Cycle cycle = pollOnce();
                published += cycle.published() + cycle.republished();
                synthesized += cycle.synthesized();
                if (Instant.now().isAfter(reportDue)) {
                    if (published > 0) {
                        LOG.info("Published {} lifecycle events ({} synthesised) in the last {} s; following {} open jobs",
                                published, synthesized, REPORT_EVERY.toSeconds(), openJobs().size());
                    }
                    published = 0;
                    synthesized = 0;
                    reportDue = Instant.now().plus(REPORT_EVERY);
                }
                if (outageSince != null) {
                    LOG.info("{} answers again after {} s; caught up: {}", outageWhat,
                            Duration.between(outageSince, Instant.now()).toSeconds(), lastCycle);
                    outageSince = null;
                }
                failures = 0;
            } catch (SlurmUnavailableException | EventLogException e) {
                String what = e instanceof SlurmUnavailableException ? "slurmctld" : "Kafka (" + log.topic() + ")";
                failures++;
                wait = backoff(failures);
                if (outageSince == null || !what.equals(outageWhat)) {
                    outageSince = Instant.now();
                    outageWhat = what;
                    LOG.warn("{} is unreachable: {}. Nothing is lost: retrying with back-off (now {} s, at most {} s) "
                            + "and catching up from squeue{} when it answers.", what, e.getMessage(), wait.toSeconds(),
                            config.maxBackoff().toSeconds(), spool == null ? "" : " and the hook spool");
                } else {
                    LOG.info("{} still unreachable after {} s ({}); next try in {} s", what,
                            Duration.between(outageSince, Instant.now()).toSeconds(), e.getMessage(), wait.toSeconds());
                }
            } catch (IOException e) {
                failures++;
                wait = backoff(failures);
                LOG.error("Cannot read or write the bridge's files ({}); retrying in {} s", e.getMessage(), wait.toSeconds());
            } catch (RuntimeException e) {
                failures++;
                wait = backoff(failures);
                LOG.error("Poll failed unexpectedly; retrying in {} s", wait.toSeconds(), e);
            }
            pause(wait);
        }
        LOG.info("Slurm bridge for cluster '{}' stopped after publishing {} events", config.cluster(), publishedTotal());
    }

    private Duration backoff(int failures) {
        long millis = config.poll().toMillis() << Math.min(failures, 16);
        return Duration.ofMillis(Math.min(millis, config.maxBackoff().toMillis()));
    }

    private void pause(Duration wait) {
        synchronized (wakeUp) {
            if (stopped) {
                return;
            }
            try {
                wakeUp.wait(Math.max(1, wait.toMillis())); // the poll interval, not a synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
            }
        }
    }

    /** Ends {@link #run()} after the current cycle. */
    public void stop() {
        stopped = true;
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
    }

    @Override
    public void close() {
        stop();
    }

    // ------------------------------------------------------------------------------------------ one cycle

    /**
     * One poll: finish an interrupted publication, read the hook spool, ask squeue, publish what is missing.
     *
     * @throws SlurmUnavailableException when squeue fails (nothing is recorded; the next cycle catches up)
     * @throws EventLogException when Kafka does not acknowledge (the journal stays; the next cycle resolves it)
     */
    public synchronized Cycle pollOnce() throws SlurmUnavailableException, EventLogException, IOException {
        int republished = state.pending == null ? 0 : resolvePending();

        // The spool first, then squeue: a hook record of a job that squeue then lists is superseded by squeue.
        HookSpool.Batch batch = spool == null ? null
                : spool.read(new HookSpool.Position(state.spoolFileKey, state.spoolOffset));
        List<SlurmJob> listing = slurm.queue();

        Map<String, SlurmJob> listed = new LinkedHashMap<>();
        for (SlurmJob job : listing) {
            if (job.state() == SlurmState.UNKNOWN) {
                LOG.debug("Job {} is in a state this bridge does not know; waiting for a known one", job.key());
                continue;
            }
            listed.merge(job.key(), job, (a, b) -> b.state().phase().ordinal() > a.state().phase().ordinal() ? b : a);
        }

        List<JobLifecycleEvent> plan = new ArrayList<>();
        for (SlurmJob job : listed.values()) {
            BridgeState.TrackedJob tracked = state.jobs.computeIfAbsent(job.key(), k -> new BridgeState.TrackedJob());
            tracked.hook = null;
            tracked.lostSince = 0;
            plan.addAll(checked(tracked, steps.missingEvents(tracked, job, false, slurm::cancelledBy)));
        }

        int hookRecords = 0;
        if (batch != null) {
            if (batch.restarted()) {
                LOG.info("Hook spool {} was rotated or truncated; reading the new file from its start", spool.path());
            }
            for (String bad : batch.malformed()) {
                LOG.warn("Skipping a line of the hook spool that is not a hook record: {}", bad);
            }
            for (SlurmJob record : batch.records()) {
                hookRecords++;
                if (listed.containsKey(record.key())) {
                    continue; // squeue's row, read after this record, is the fresher view
                }
                BridgeState.TrackedJob tracked = state.jobs.computeIfAbsent(record.key(), k -> new BridgeState.TrackedJob());
                if (!tracked.ended) {
                    tracked.hook = tracked.hook == null ? record : tracked.hook.mergedWith(record);
                }
            }
        }

        long now = System.currentTimeMillis();
        for (Iterator<Map.Entry<String, BridgeState.TrackedJob>> it = state.jobs.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, BridgeState.TrackedJob> entry = it.next();
            BridgeState.TrackedJob tracked = entry.getValue();
            if (listed.containsKey(entry.getKey())) {
                continue;
            }
            if (tracked.ended || tracked.rejected) {
                it.remove(); // squeue forgot it (MinJobAge passed); nothing more can happen to it
                continue;
            }
            if (tracked.hook != null) {
                SlurmJob record = tracked.hook;
                boolean inferred = record.source() == SlurmJob.Source.EPILOG;
                SlurmJob observation = inferred ? endFromEpilog(record) : record;
                plan.addAll(checked(tracked, steps.missingEvents(tracked, observation, inferred, slurm::cancelledBy)));
                if (observation.state().phase() == SlurmState.Phase.ENDED) {
                    continue;
                }
            }
            if (tracked.published.isEmpty() && tracked.hook == null) {
                it.remove();
            } else if (tracked.lostSince == 0) {
                tracked.lostSince = now;
                LOG.warn("Job {} left squeue without an end the bridge could see (last published: {}). Was the bridge "
                        + "away for longer than MinJobAge? Install the jobcomp hook (README, \"Slurm bridge\") to close "
                        + "such gaps.", steps.jobId(entry.getKey()),
                        tracked.published.isEmpty() ? "nothing" : tracked.published.get(tracked.published.size() - 1));
            } else if (now - tracked.lostSince > config.lostJobRetention().toMillis()) {
                it.remove();
            }
        }

        if (batch != null) {
            // Moves with the journal: the records read are in the tracked jobs (hook) or in the events journalled now.
            state.spoolFileKey = batch.next().fileKey();
            state.spoolOffset = batch.next().offset();
        }
        int synthesized = (int) plan.stream().filter(e -> e.getProducer().equals(steps.synthesizedProducer())).count();
        if (!plan.isEmpty()) {
            publish(plan);
        }
        state.save(config.stateFile());
        lastCycle = new Cycle(listed.size(), hookRecords, plan.size(), synthesized, republished);
        return lastCycle;
    }

    /** The contract check the publisher would make; a job whose event fails it is logged once and left alone. */
    private List<JobLifecycleEvent> checked(BridgeState.TrackedJob tracked, List<JobLifecycleEvent> events) {
        long now = System.currentTimeMillis();
        for (JobLifecycleEvent e : events) {
            try {
                validator.validate(e, now);
            } catch (RejectedRecordException ex) {
                tracked.rejected = true;
                LOG.error("Job {}: its {} event breaks the contract ({}: {}); the job is no longer followed",
                        e.getJobId(), e.getEventType(), ex.reason(), ex.getMessage());
                return List.of();
            }
        }
        return events;
    }

    /**
     * EpilogSlurmctld tells the exit code but not the state: exit 0:0 is taken as COMPLETED, anything else as FAILED.
     * Used only for a job squeue no longer lists and no jobcomp record described.
     */
    static SlurmJob endFromEpilog(SlurmJob epilog) {
        boolean clean = epilog.exitCode() == 0 && epilog.signal() == 0;
        return new SlurmJob(epilog.key(), epilog.submission(), epilog.user(), epilog.name(), epilog.partition(),
                epilog.comment(), clean ? SlurmState.COMPLETED : SlurmState.FAILED,
                "end state inferred from EpilogSlurmctld", epilog.submitTime(), epilog.startTime(), epilog.endTime(),
                epilog.ran(), epilog.nodeCount(), epilog.cpus(), epilog.memoryBytes(), epilog.timeLimitMinutes(),
                epilog.exitCode(), epilog.signal(), epilog.restarts(), 0, epilog.outputRef(), epilog.source());
    }

    // ------------------------------------------------------------------------------------------ publication

    /** Journal, send, wait for every acknowledgement, then record the steps as published. */
    private void publish(List<JobLifecycleEvent> events) throws EventLogException, IOException {
        BridgeState.Pending pending = new BridgeState.Pending();
        pending.topic = log.topic();
        try {
            pending.endOffsets = log.endOffsets();
        } catch (Exception e) {
            throw new EventLogException("cannot read the end offsets of " + log.topic() + ": " + e.getMessage(), e);
        }
        for (JobLifecycleEvent e : events) {
            pending.events.add(JsonCodec.encodeToString(e));
        }
        state.pending = pending;
        state.save(config.stateFile());

        List<CompletableFuture<?>> sends = new ArrayList<>(events.size());
        for (JobLifecycleEvent e : events) {
            sends.add(log.publish(e));
        }
        log.flush();
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                    .get(config.publishTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new EventLogException(String.valueOf(e.getCause() == null ? e : e.getCause().getMessage()), e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new EventLogException("no acknowledgement within " + config.publishTimeout(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventLogException("interrupted while publishing", e);
        }
        for (JobLifecycleEvent e : events) {
            markPublished(e);
        }
        state.pending = null;
        state.save(config.stateFile());
        synchronized (this) {
            publishedTotal += events.size();
        }
        if (LOG.isDebugEnabled()) {
            events.forEach(e -> LOG.debug("published {} {} at {} ({})", e.getJobId(), e.getEventType(),
                    e.getOccurredAt(), e.getProducer()));
        }
    }

    /**
     * A journal left by an interrupted publication: finds out from Kafka which of its events arrived, records them,
     * and sends the rest (in their original order). Returns how many were sent again.
     */
    private int resolvePending() throws EventLogException, IOException {
        BridgeState.Pending pending = state.pending;
        List<JobLifecycleEvent> events = new ArrayList<>();
        for (String json : pending.events) {
            try {
                events.add(JsonCodec.decode(json.getBytes(StandardCharsets.UTF_8), JobLifecycleEvent.class,
                        JobLifecycleEvent.getClassSchema()));
            } catch (RejectedRecordException e) {
                throw new IOException("the journal in " + config.stateFile() + " holds an unreadable event: " + e.getMessage());
            }
        }
        Set<String> arrived;
        try {
            arrived = log.find(pending.endOffsets, events.stream().map(JobLifecycleEvent::getEventId).toList());
        } catch (Exception e) {
            throw new EventLogException("cannot read " + log.topic() + " back to check an interrupted publication: "
                    + e.getMessage(), e);
        }
        List<JobLifecycleEvent> missing = new ArrayList<>();
        for (JobLifecycleEvent e : events) {
            if (arrived.contains(e.getEventId())) {
                markPublished(e);
            } else {
                missing.add(e);
            }
        }
        LOG.info("An interrupted publication of {} events was checked against {}: {} had arrived, {} are sent again",
                events.size(), log.topic(), events.size() - missing.size(), missing.size());
        state.pending = null;
        if (missing.isEmpty()) {
            state.save(config.stateFile());
        } else {
            publish(missing);
        }
        return missing.size();
    }

    private void markPublished(JobLifecycleEvent e) {
        String key = steps.keyOf(e.getJobId());
        if (key == null) {
            return;
        }
        BridgeState.TrackedJob tracked = state.jobs.computeIfAbsent(key, k -> new BridgeState.TrackedJob());
        if (tracked.published.contains(e.getEventType().name())) {
            return;
        }
        if (tracked.user == null) {
            tracked.user = e.getUserId();
            tracked.correlationId = e.getCorrelationId();
        }
        tracked.published.add(e.getEventType().name());
        tracked.lastEventAt = Math.max(tracked.lastEventAt, e.getOccurredAt().toEpochMilli());
        if (e.getEventType() == LifecycleEventType.COMPLETED || e.getEventType() == LifecycleEventType.FAILED
                || e.getEventType() == LifecycleEventType.CANCELLED) {
            tracked.ended = true;
            tracked.hook = null;
        }
    }

    /** A read-only view of the state, for tests and status output: job key -> published steps. */
    public synchronized Map<String, List<String>> publishedSteps() {
        Map<String, List<String>> out = new HashMap<>();
        state.jobs.forEach((k, v) -> out.put(k, List.copyOf(v.published)));
        return out;
    }

    /** Keys of the jobs the bridge follows that have not ended. */
    public synchronized Set<String> openJobs() {
        Set<String> out = new HashSet<>();
        state.jobs.forEach((k, v) -> {
            if (!v.ended) {
                out.add(k);
            }
        });
        return out;
    }
}
