package io.cosmichorizons.slurm;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the bridge has published, persisted in a small JSON file that is replaced atomically (write, fsync, rename):
 * per job, the lifecycle steps already on Kafka; the hook spool position; and the <em>pending</em> journal of a
 * publication in flight (its events and the topic's end offsets before it started), so that a bridge killed
 * mid-publication can find out from Kafka which of them arrived, and send only the rest.
 */
final class BridgeState {
    static final int FORMAT = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    public int format = FORMAT;
    public String cluster;
    /** Whether the spool position below has been set (a new bridge starts at the spool's end, not its beginning). */
    public boolean spoolPositioned;
    public String spoolFileKey;
    public long spoolOffset;
    /** Jobs by Slurm key (1234 or 1234_7). */
    public Map<String, TrackedJob> jobs = new TreeMap<>();
    /** A publication that was started and not yet confirmed, or null. */
    public Pending pending;
    /** What the file holds now: an unchanged state is not written again (no fsync per idle poll). */
    @JsonIgnore
    private byte[] saved;

    /** One job the bridge follows. */
    static final class TrackedJob {
        /** user_id and correlation_id, fixed by the job's first event so that all of its events agree. */
        public String user;
        public String correlationId;
        /** The lifecycle steps on Kafka, in order (LifecycleEventType names). */
        public List<String> published = new ArrayList<>();
        /** occurred_at of the last published step, epoch ms: the next step is strictly later. */
        public long lastEventAt;
        /** The terminal step is on Kafka: nothing more will be published for this job. */
        public boolean ended;
        /** Hook records of a job squeue does not list (merged), or null. */
        public SlurmJob hook;
        /** Wall-clock ms since the job left squeue without a known end, or 0. */
        public long lostSince;
        /** The job's events were refused by the contract check; it is left alone (and logged once). */
        public boolean rejected;
    }

    /** The journal of one publication. */
    static final class Pending {
        public String topic;
        /** The topic's end offsets (partition -> offset) before the first event was sent. */
        public Map<Integer, Long> endOffsets = new TreeMap<>();
        /** The events, as canonical JSON (JsonCodec), in publication order. */
        public List<String> events = new ArrayList<>();
    }

    static BridgeState load(Path file, String cluster) throws IOException {
        if (!Files.exists(file)) {
            BridgeState fresh = new BridgeState();
            fresh.cluster = cluster;
            return fresh;
        }
        byte[] bytes = Files.readAllBytes(file);
        BridgeState state = MAPPER.readValue(bytes, BridgeState.class);
        state.saved = bytes;
        if (state.format != FORMAT) {
            throw new IOException(file + " has state format " + state.format + "; this bridge reads format " + FORMAT);
        }
        if (state.cluster != null && !state.cluster.equals(cluster)) {
            throw new IOException(file + " belongs to cluster '" + state.cluster + "', not '" + cluster
                    + "': give every cluster its own --state-file");
        }
        state.cluster = cluster;
        return state;
    }

    /**
     * Writes the state to a temporary file, forces it to disk, and renames it over {@code file}; does nothing when the
     * file already holds exactly this state.
     */
    void save(Path file) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(this);
        if (Arrays.equals(bytes, saved) && Files.exists(file)) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        saved = bytes;
    }
}
