package io.cosmichorizons.dashboard;

import io.javalin.http.sse.SseClient;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open Server-Sent-Event streams. {@link #publish} only queues: each stream is written by a sender thread of its
 * own turn, so a slow browser never holds up the Kafka consumer or the other browsers. A stream that falls
 * {@value #MAX_QUEUED} events behind is closed; its EventSource reconnects and starts again from a snapshot.
 */
final class EventHub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);
    static final int MAX_QUEUED = 1000;

    private record Message(String event, String data) {}

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final ExecutorService senders = Executors.newCachedThreadPool(daemonThreads("dashboard-sse-"));

    /** Queues an event for every open stream. */
    void publish(String event, String json) {
        Message m = new Message(event, json);
        for (Subscriber s : subscribers) {
            s.offer(m);
        }
    }

    /**
     * Opens a stream whose first event is {@code firstEvent}. Call it under the same lock as {@link #publish} for the
     * state the first event was taken from, so the stream misses no change and repeats none.
     */
    void subscribe(SseClient client, String firstEvent, String firstJson) {
        Subscriber s = new Subscriber(client);
        s.offer(new Message(firstEvent, firstJson));
        subscribers.add(s);
        client.onClose(() -> subscribers.remove(s));
    }

    /** A comment line on every stream: keeps proxies and Jetty's idle timeout from closing quiet streams. */
    void keepAlive() {
        for (Subscriber s : subscribers) {
            if (s.client.terminated()) {
                subscribers.remove(s);
            } else {
                s.offer(new Message(null, "keep-alive"));
            }
        }
    }

    int subscribers() {
        return subscribers.size();
    }

    @Override
    public void close() {
        for (Subscriber s : subscribers) {
            s.closeStream();
        }
        subscribers.clear();
        senders.shutdownNow();
        try {
            senders.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private final class Subscriber {
        final SseClient client;
        final Queue<Message> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger queued = new AtomicInteger();
        final AtomicBoolean draining = new AtomicBoolean();

        Subscriber(SseClient client) {
            this.client = client;
        }

        void offer(Message m) {
            if (queued.incrementAndGet() > MAX_QUEUED) {
                LOG.info("Closing an event stream that fell {} events behind; the browser reconnects", MAX_QUEUED);
                closeStream();
                return;
            }
            queue.add(m);
            if (draining.compareAndSet(false, true)) {
                try {
                    senders.execute(this::drain);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    draining.set(false); // shutting down
                }
            }
        }

        private void drain() {
            while (true) {
                Message m;
                while ((m = queue.poll()) != null) {
                    queued.decrementAndGet();
                    if (client.terminated()) {
                        subscribers.remove(this);
                        queue.clear();
                        return;
                    }
                    if (m.event() == null) {
                        client.sendComment(m.data());
                    } else {
                        client.sendEvent(m.event(), m.data());
                    }
                }
                draining.set(false);
                // A message queued after the last poll but before the flag was cleared would otherwise wait.
                if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
                    return;
                }
            }
        }

        void closeStream() {
            subscribers.remove(this);
            queue.clear();
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("Closing an event stream", e);
            }
        }
    }
}
