package io.cosmichorizons.bench;

import io.cosmichorizons.events.Alert;
import io.cosmichorizons.events.JobLifecycleEvent;
import io.cosmichorizons.events.Notification;
import io.cosmichorizons.generator.GeneratorConfig;
import io.cosmichorizons.generator.PlannedRecord;
import io.cosmichorizons.pipeline.lifecycle.Transitions;
import io.cosmichorizons.serde.AvroCodec;
import io.cosmichorizons.serde.RejectedRecordException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Latency from an event's production (the moment the generator hands it to the producer) to its output becoming
 * visible to a reader, measured in this JVM with one monotonic clock:
 *
 * <ul>
 *   <li><b>notification</b> (exactly-once, read with read_committed): a job's terminal lifecycle event until its
 *       notification is readable in the notifications topic;</li>
 *   <li><b>alert</b> (at-least-once, stable ids): an alert is raised when the watermark passes its deadline, i.e. by
 *       the first record whose event time is at least the alert's time plus the watermark delay; from that record's
 *       production until the alert is readable (first sighting of each alert id and state).</li>
 * </ul>
 */
final class LatencyProbe implements AutoCloseable {
    private final ConcurrentHashMap<String, Long> terminalSentAt = new ConcurrentHashMap<>();
    private final long watermarkDelayMillis;
    // Send order: running maximum of the record timestamps, and the send times. Written by the generator thread only
    // before the alert consumer reads a prefix of it (guarded by `published`).
    private long[] maxTimestamp = new long[1 << 16];
    private long[] sentAt = new long[1 << 16];
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong terminalEvents = new AtomicLong();
    private final Samples notifications = new Samples();
    private final Samples alerts = new Samples();
    private final Set<String> alertsSeen = new HashSet<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String notificationTopic;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread reader;
    private final long warmupNanos;
    private long firstPublished = -1;
    private volatile long measureFrom = Long.MAX_VALUE;
    private volatile Throwable failure;

    /**
     * @param warmup events produced within this time after the first one are not measured
     */
    LatencyProbe(String bootstrap, String notificationTopic, String alertTopic, Duration watermarkDelay, Duration warmup) {
        this.warmupNanos = warmup.toNanos();
        this.notificationTopic = notificationTopic;
        this.watermarkDelayMillis = watermarkDelay.toMillis();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new java.util.ArrayList<>();
        for (String topic : List.of(notificationTopic, alertTopic)) {
            consumer.partitionsFor(topic).forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        reader = new Thread(this::read, "latency-probe-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The generator's hook: notes when each record is produced. On the generator's thread. */
    void beforePublish(PlannedRecord record) {
        long now = System.nanoTime();
        if (firstPublished < 0) {
            firstPublished = now;
        } else if (measureFrom == Long.MAX_VALUE && now - firstPublished >= warmupNanos) {
            measureFrom = now;
        }
        if (record instanceof PlannedRecord.ValidEvent v && v.event() instanceof JobLifecycleEvent e
                && Transitions.isTerminal(e.getEventType())) {
            terminalSentAt.putIfAbsent(e.getJobId(), now);
            terminalEvents.incrementAndGet();
        }
        int i = (int) published.get();
        synchronized (this) {
            if (i == sentAt.length) {
                sentAt = Arrays.copyOf(sentAt, i * 2);
                maxTimestamp = Arrays.copyOf(maxTimestamp, i * 2);
            }
            maxTimestamp[i] = i == 0 ? record.timestamp() : Math.max(maxTimestamp[i - 1], record.timestamp());
            sentAt[i] = now;
        }
        published.incrementAndGet();
    }

    long terminalEvents() {
        return terminalEvents.get();
    }

    long notificationsSeen() {
        return notifications.seen.get();
    }

    Samples notificationLatencies() {
        return notifications;
    }

    Samples alertLatencies() {
        return alerts;
    }

    Throwable failure() {
        return failure;
    }

    private void read() {
        try {
            while (!stop.get()) {
                var batch = consumer.poll(Duration.ofMillis(20));
                long visible = System.nanoTime();
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    if (r.topic().equals(notificationTopic)) {
                        onNotification(r.value(), visible);
                    } else {
                        onAlert(r.value(), visible);
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void onNotification(byte[] value, long visible) {
        Notification n;
        try {
            n = AvroCodec.decode(value, Notification.class, Notification.getClassSchema());
        } catch (RejectedRecordException e) {
            return;
        }
        notifications.seen.incrementAndGet();
        Long sent = terminalSentAt.get(n.getJobId());
        if (sent != null && sent >= measureFrom) {
            notifications.add((visible - sent) / 1e6);
        }
    }

    private void onAlert(byte[] value, long visible) {
        Alert a;
        try {
            a = AvroCodec.decode(value, Alert.class, Alert.getClassSchema());
        } catch (RejectedRecordException e) {
            return;
        }
        if (!alertsSeen.add(a.getAlertId() + "/" + a.getState())) {
            return; // a repeat (at-least-once): only the first sighting counts
        }
        alerts.seen.incrementAndGet();
        long trigger = a.getUpdatedAt().toEpochMilli() + watermarkDelayMillis;
        long sent;
        synchronized (this) {
            int n = (int) published.get();
            int i = firstAtLeast(maxTimestamp, n, trigger);
            if (i >= n) {
                return; // raised by the processing-time fallback or a timer: no input record to measure from
            }
            sent = sentAt[i];
        }
        if (sent >= measureFrom) {
            alerts.add((visible - sent) / 1e6);
        }
    }

    static int firstAtLeast(long[] sorted, int n, long value) {
        int lo = 0;
        int hi = n;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        consumer.wakeup();
        reader.join(10_000);
        consumer.close(Duration.ofSeconds(5));
    }

    /** Latencies in milliseconds. */
    static final class Samples {
        private double[] values = new double[1024];
        private int n;
        final AtomicLong seen = new AtomicLong();

        synchronized void add(double ms) {
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
            }
            values[n++] = ms;
        }

        synchronized double[] sorted() {
            double[] v = Arrays.copyOf(values, n);
            Arrays.sort(v);
            return v;
        }
    }

    /** A generator config publishing at {@code rate} records/s for about {@code duration}. */
    static GeneratorConfig paced(GeneratorConfig.Builder mix, double rate, Duration duration, long seed) {
        int jobs = Workloads.jobsFor((long) (rate * duration.toSeconds()), mix);
        return mix.jobs(jobs).rate(rate).seed(seed).build();
    }
}
