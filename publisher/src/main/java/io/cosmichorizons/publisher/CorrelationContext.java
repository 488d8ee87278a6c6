package io.cosmichorizons.publisher;

import java.util.Optional;
import java.util.UUID;

/**
 * The correlation id of the request the current thread is serving. The publisher's typed methods stamp it on the
 * events they build, so every event caused by one request can be traced across services:
 *
 * <pre>{@code
 * try (var scope = CorrelationContext.with(request.correlationId())) {
 *     publisher.publishJobSubmitted(jobId, userId, details, now);
 * }
 * }</pre>
 *
 * Scopes nest; closing one restores the id that was current before it. The context is per thread, so code that hands
 * work to another thread must open a scope there too.
 */
public final class CorrelationContext {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private CorrelationContext() {}

    /** Makes {@code correlationId} current on this thread until the returned scope is closed. */
    public static Scope with(String correlationId) {
        if (correlationId == null || correlationId.isBlank()) {
            throw new IllegalArgumentException("correlationId must not be blank");
        }
        String previous = CURRENT.get();
        CURRENT.set(correlationId);
        return new Scope(previous);
    }

    /** The current correlation id, if a scope is open on this thread. */
    public static Optional<String> current() {
        return Optional.ofNullable(CURRENT.get());
    }

    /** The current correlation id, or a new random UUID when no scope is open. */
    public static String currentOrNew() {
        String current = CURRENT.get();
        return current != null ? current : UUID.randomUUID().toString();
    }

    /** An open correlation scope; closing it restores the previous id. */
    public static final class Scope implements AutoCloseable {
        private final String previous;

        private Scope(String previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }
}
