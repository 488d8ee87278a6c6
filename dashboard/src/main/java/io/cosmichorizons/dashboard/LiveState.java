package io.cosmichorizons.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cosmichorizons.dashboard.Views.AlertView;
import io.cosmichorizons.dashboard.Views.Alerts;
import io.cosmichorizons.dashboard.Views.DeadLetterStats;
import io.cosmichorizons.dashboard.Views.FailedJob;
import io.cosmichorizons.dashboard.Views.FlinkStatus;
import io.cosmichorizons.dashboard.Views.Health;
import io.cosmichorizons.dashboard.Views.JobCounts;
import io.cosmichorizons.dashboard.Views.NotificationView;
import io.cosmichorizons.dashboard.Views.QueueSeries;
import io.cosmichorizons.dashboard.Views.Snapshot;
import io.javalin.http.sse.SseClient;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * What the page shows right now. The feeds (Kafka, PostgreSQL, Flink REST) update it; each change that is a real
 * change goes to every open stream as one event: {@code counts}, {@code series}, {@code failures}, {@code alerts},
 * {@code notifications} (only the new ones) or {@code health}. A new stream starts with a {@code snapshot}.
 */
final class LiveState {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Notifications kept for new pages (the page keeps its own, longer list). */
    static final int NOTIFICATIONS_KEPT = 500;
    static final int RESOLVED_ALERTS_KEPT = 50;
    private static final long FIVE_MINUTES_MS = 5 * 60_000L;

    private final EventHub hub;
    private final LongSupplier clock;
    private final String instance = UUID.randomUUID().toString();
    private final long startedAt;

    private JobCounts counts = new JobCounts(null, null, List.of());
    private QueueSeries series = QueueSeries.empty();
    private List<FailedJob> failures = List.of();
    private final Map<String, AlertView> openAlerts = new HashMap<>();
    private final Map<String, AlertView> resolvedAlerts = new HashMap<>();
    private final LinkedHashMap<String, NotificationView> notifications = new LinkedHashMap<>();

    // Health inputs
    private Long newestEventAt;
    private String database = "not read yet";
    private boolean alertsTable;
    private int kafkaPartitions;
    private String kafkaError;
    private long undecodable;
    private long deadLetterTotal;
    private final Deque<Long> deadLetterArrivals = new ArrayDeque<>();
    private final Map<String, Long> deadLettersByReason = new TreeMap<>();
    /** The input records dead-lettered lately, oldest first, so a record counts once whichever jobs rejected it. */
    private final Set<String> deadLetteredRecords = new LinkedHashSet<>();
    private FlinkStatus flink = FlinkStatus.notConfigured();
    private Health health;
    static final int REMEMBERED_DEAD_LETTERS = 100_000;

    LiveState(EventHub hub, LongSupplier clock) {
        this.hub = hub;
        this.clock = clock;
        this.startedAt = clock.getAsLong();
        this.health = computeHealth();
    }

    // ------------------------------------------------------------------------------------------ streams

    /** Opens a stream for a page: a snapshot first, then every change. */
    synchronized void subscribe(SseClient client) {
        hub.subscribe(client, "snapshot", json(snapshot()));
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(instance, clock.getAsLong(), counts, series, failures, alerts(),
                new ArrayList<>(notifications.values()), health);
    }

    // ------------------------------------------------------------------------------------------ PostgreSQL

    synchronized void setCounts(JobCounts next, Long newest) {
        newestEventAt = newest;
        if (!next.equals(counts)) {
            counts = next;
            hub.publish("counts", json(next));
        }
        refreshHealth();
    }

    synchronized void setSeries(QueueSeries next) {
        if (!next.equals(series)) {
            series = next;
            hub.publish("series", json(next));
        }
    }

    synchronized void setFailures(List<FailedJob> next) {
        if (!next.equals(failures)) {
            failures = List.copyOf(next);
            hub.publish("failures", json(failures));
        }
    }

    synchronized void setDatabase(String status, boolean alertsTablePresent) {
        database = status;
        alertsTable = alertsTablePresent;
        refreshHealth();
    }

    // ------------------------------------------------------------------------------------------ Kafka

    /**
     * Applies alert records. An alert moves from OPEN to RESOLVED and never back, so a RESOLVED one is never replaced
     * by an OPEN one (e.g. from the table seed and the topic in either order); otherwise the newer record wins.
     */
    synchronized void applyAlerts(List<AlertView> records) {
        boolean changed = false;
        for (AlertView a : records) {
            AlertView known = resolvedAlerts.containsKey(a.alertId()) ? resolvedAlerts.get(a.alertId())
                    : openAlerts.get(a.alertId());
            if (known != null && (known.resolved() && !a.resolved()
                    || known.resolved() == a.resolved() && a.updatedAt() < known.updatedAt()
                    || known.equals(a))) {
                continue;
            }
            changed = true;
            if (a.resolved()) {
                openAlerts.remove(a.alertId());
                resolvedAlerts.put(a.alertId(), a);
            } else {
                openAlerts.put(a.alertId(), a);
            }
        }
        if (resolvedAlerts.size() > RESOLVED_ALERTS_KEPT) {
            List<AlertView> newestFirst = resolvedAlerts.values().stream().sorted(RESOLVED_ORDER).toList();
            newestFirst.subList(RESOLVED_ALERTS_KEPT, newestFirst.size()).forEach(a -> resolvedAlerts.remove(a.alertId()));
        }
        if (changed) {
            hub.publish("alerts", json(alerts()));
        }
    }

    private static final Comparator<AlertView> RESOLVED_ORDER = Comparator
            .comparingLong((AlertView a) -> a.resolvedAt() != null ? a.resolvedAt() : a.updatedAt()).reversed()
            .thenComparing(AlertView::alertId);

    private static int severityRank(String severity) {
        return switch (severity) {
            case "CRITICAL" -> 0;
            case "WARNING" -> 1;
            default -> 2;
        };
    }

    private Alerts alerts() {
        List<AlertView> open = openAlerts.values().stream()
                .sorted(Comparator.comparingInt((AlertView a) -> severityRank(a.severity()))
                        .thenComparingLong(AlertView::openedAt).thenComparing(AlertView::alertId))
                .toList();
        return new Alerts(open, resolvedAlerts.values().stream().sorted(RESOLVED_ORDER).toList());
    }

    /** Adds notifications not seen before and sends the new ones to the pages. */
    synchronized void addNotifications(List<NotificationView> records) {
        List<NotificationView> fresh = new ArrayList<>();
        for (NotificationView n : records) {
            if (notifications.putIfAbsent(n.notificationId(), n) == null) {
                fresh.add(n);
            }
        }
        Iterator<String> oldest = notifications.keySet().iterator();
        while (notifications.size() > NOTIFICATIONS_KEPT) {
            oldest.next();
            oldest.remove();
        }
        if (!fresh.isEmpty()) {
            hub.publish("notifications", json(fresh));
        }
    }

    /**
     * A dead letter as the feed read it.
     *
     * @param record the input record it is about ({@code topic/partition@offset}), or null when unknown (a dead letter
     *     that does not decode)
     * @param reason why it was rejected
     */
    record DeadLetterSeen(String record, String reason) {}

    /**
     * Counts dead-lettered input records. Every job that reads a bad record dead-letters it (the lifecycle and the
     * audit job both read job-lifecycle), so a record seen again within the last {@value #REMEMBERED_DEAD_LETTERS}
     * is not counted twice.
     */
    synchronized void countDeadLetters(List<DeadLetterSeen> seen) {
        long now = clock.getAsLong();
        for (DeadLetterSeen d : seen) {
            if (d.record() != null && !rememberDeadLettered(d.record())) {
                continue;
            }
            deadLetterTotal++;
            deadLetterArrivals.addLast(now);
            deadLettersByReason.merge(d.reason(), 1L, Long::sum);
        }
        refreshHealth();
    }

    private boolean rememberDeadLettered(String record) {
        if (!deadLetteredRecords.add(record)) {
            return false;
        }
        if (deadLetteredRecords.size() > REMEMBERED_DEAD_LETTERS) {
            Iterator<String> oldest = deadLetteredRecords.iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }

    synchronized void setKafka(int partitions, String error, long undecodableRecords) {
        kafkaPartitions = partitions;
        kafkaError = error;
        undecodable = undecodableRecords;
        refreshHealth();
    }

    // ------------------------------------------------------------------------------------------ Flink

    synchronized void setFlink(FlinkStatus status) {
        flink = status;
        refreshHealth();
    }

    // ------------------------------------------------------------------------------------------ health

    /** Recomputes health (the dead-letter rate ages with the clock) and sends it if it changed. */
    synchronized void refreshHealth() {
        Health next = computeHealth();
        if (!next.equals(health)) {
            health = next;
            hub.publish("health", json(next));
        }
    }

    private Health computeHealth() {
        long now = clock.getAsLong();
        while (!deadLetterArrivals.isEmpty() && deadLetterArrivals.peekFirst() < now - FIVE_MINUTES_MS) {
            deadLetterArrivals.removeFirst();
        }
        long window = Math.max(60_000L, Math.min(FIVE_MINUTES_MS, now - startedAt));
        double perMinute = Math.round(deadLetterArrivals.size() * 600_000.0 / window) / 10.0;
        DeadLetterStats dls = new DeadLetterStats(startedAt, deadLetterTotal, deadLetterArrivals.size(), perMinute,
                new TreeMap<>(deadLettersByReason));
        return new Health(newestEventAt, database, alertsTable, kafkaPartitions, kafkaError, undecodable, dls, flink);
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
