package io.cosmichorizons.pipeline.io;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.connector.jdbc.core.datastream.sink.committer.JdbcCommitable;
import org.apache.flink.connector.jdbc.core.datastream.sink.writer.JdbcWriter;
import org.apache.flink.connector.jdbc.core.datastream.sink.writer.JdbcWriterState;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An at-least-once {@link JdbcSink} whose writer never throws from {@code close()}.
 *
 * <p>Why: when PostgreSQL goes away, the connector remembers the failed background flush and rethrows it from
 * {@code close()}. Flink closes the operators while it is already handling the task's failure, and an exception there
 * is "FATAL - exception in exception handler": the whole TaskManager process exits, taking every other task on it
 * down, and the job cannot restart until a TaskManager comes back. Dropping what {@code close()} could not write is
 * safe for an at-least-once sink of idempotent statements: every checkpoint flushes the batch first, so {@code close()}
 * only holds records written after the last checkpoint, which the restored job replays. A normal end of input still
 * flushes in {@code flush(true)}, where a failure propagates as before.
 *
 * <p>The writer state and committables are the connector's own, so savepoints taken with the plain sink restore.
 */
public final class CloseTolerantJdbcSink<IN>
        implements Sink<IN>, SupportsWriterState<IN, JdbcWriterState>, SupportsCommitter<JdbcCommitable> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(CloseTolerantJdbcSink.class);

    private final JdbcSink<IN> delegate;

    private CloseTolerantJdbcSink(JdbcSink<IN> delegate) {
        this.delegate = delegate;
    }

    /** Wraps a sink built with {@code buildAtLeastOnce} (an XA sink must keep its own close semantics). */
    public static <IN> CloseTolerantJdbcSink<IN> of(JdbcSink<IN> atLeastOnceSink) {
        return new CloseTolerantJdbcSink<>(atLeastOnceSink);
    }

    @Override
    public Writer<IN, JdbcWriter<IN>> createWriter(WriterInitContext context) throws IOException {
        return new Writer<>(delegate.createWriter(context));
    }

    @Override
    public Writer<IN, JdbcWriter<IN>> restoreWriter(WriterInitContext context, Collection<JdbcWriterState> recoveredState) throws IOException {
        return new Writer<>(delegate.restoreWriter(context, recoveredState));
    }

    @Override
    public SimpleVersionedSerializer<JdbcWriterState> getWriterStateSerializer() {
        return delegate.getWriterStateSerializer();
    }

    @Override
    public Committer<JdbcCommitable> createCommitter(CommitterInitContext context) throws IOException {
        return delegate.createCommitter(context);
    }

    @Override
    public SimpleVersionedSerializer<JdbcCommitable> getCommittableSerializer() {
        return delegate.getCommittableSerializer();
    }

    /** Delegates everything; only {@link #close()} logs instead of throwing. */
    static final class Writer<IN, W extends StatefulSinkWriter<IN, JdbcWriterState> & CommittingSinkWriter<IN, JdbcCommitable>>
            implements StatefulSinkWriter<IN, JdbcWriterState>, CommittingSinkWriter<IN, JdbcCommitable> {
        private final W delegate;

        Writer(W delegate) {
            this.delegate = delegate;
        }

        @Override
        public void write(IN element, Context context) throws IOException, InterruptedException {
            delegate.write(element, context);
        }

        @Override
        public void flush(boolean endOfInput) throws IOException, InterruptedException {
            delegate.flush(endOfInput);
        }

        @Override
        public void writeWatermark(Watermark watermark) throws IOException, InterruptedException {
            delegate.writeWatermark(watermark);
        }

        @Override
        public List<JdbcWriterState> snapshotState(long checkpointId) throws IOException {
            return delegate.snapshotState(checkpointId);
        }

        @Override
        public Collection<JdbcCommitable> prepareCommit() throws IOException, InterruptedException {
            return delegate.prepareCommit();
        }

        @Override
        public void close() {
            try {
                delegate.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("JDBC sink closed with records it could not write; they are after the last checkpoint and "
                        + "the restored job writes them again: {}", rootMessage(e));
            }
        }

        private static String rootMessage(Throwable e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root.getClass().getSimpleName() + ": " + root.getMessage();
        }
    }
}
