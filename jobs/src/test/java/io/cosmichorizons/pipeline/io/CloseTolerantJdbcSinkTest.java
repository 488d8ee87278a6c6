package io.cosmichorizons.pipeline.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.connector.jdbc.core.datastream.sink.committer.JdbcCommitable;
import org.apache.flink.connector.jdbc.core.datastream.sink.writer.JdbcWriterState;
import org.junit.jupiter.api.Test;

class CloseTolerantJdbcSinkTest {

    /** A writer whose database went away: flushing and closing fail, as the connector's do. */
    private static final class UnreachableDatabaseWriter
            implements StatefulSinkWriter<String, JdbcWriterState>, CommittingSinkWriter<String, JdbcCommitable> {
        final List<String> calls = new ArrayList<>();

        @Override
        public void write(String element, Context context) {
            calls.add("write " + element);
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            calls.add("flush " + endOfInput);
            throw new IOException("Writing records to JDBC failed");
        }

        @Override
        public List<JdbcWriterState> snapshotState(long checkpointId) {
            calls.add("snapshot " + checkpointId);
            return List.of();
        }

        @Override
        public Collection<JdbcCommitable> prepareCommit() {
            calls.add("prepareCommit");
            return List.of();
        }

        @Override
        public void close() throws Exception {
            calls.add("close");
            throw new RuntimeException("Writing records to JDBC failed", new IOException("the database is shutting down"));
        }
    }

    @Test
    void closeAfterAFailedFlushDoesNotThrowSoTheTaskManagerSurvives() {
        UnreachableDatabaseWriter database = new UnreachableDatabaseWriter();
        var writer = new CloseTolerantJdbcSink.Writer<>(database);

        assertDoesNotThrow(writer::close);
        assertEquals(List.of("close"), database.calls, "close is still passed on");
    }

    @Test
    void everythingElseIsPassedOnAndFlushFailuresStillFailTheTask() throws Exception {
        UnreachableDatabaseWriter database = new UnreachableDatabaseWriter();
        var writer = new CloseTolerantJdbcSink.Writer<>(database);

        writer.write("a", null);
        writer.snapshotState(7);
        writer.prepareCommit();
        // A checkpoint or the end of input flushes: a failure there must fail the task, or records would be lost.
        assertThrows(IOException.class, () -> writer.flush(false));
        assertThrows(IOException.class, () -> writer.flush(true));
        assertEquals(List.of("write a", "snapshot 7", "prepareCommit", "flush false", "flush true"), database.calls);
    }
}
