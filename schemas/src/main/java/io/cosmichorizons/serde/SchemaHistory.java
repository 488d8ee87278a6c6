package io.cosmichorizons.serde;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The published versions of each contract, kept in schemas/history/ and listed in its index.txt. Decoders register
 * them so records written by older producers still resolve; the compatibility test checks the current schemas
 * against them.
 */
public final class SchemaHistory {
    private static final String ROOT = "schemas/history/";

    /** A published version: the record name, its version label, and the self-contained schema. */
    public record Version(String recordName, String label, Schema schema) {}

    private SchemaHistory() {}

    public static List<Version> all() {
        List<Version> versions = new ArrayList<>();
        try (InputStream index = resource(ROOT + "index.txt");
                BufferedReader reader = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                // Each line: <RecordName>/<version>.avsc
                String recordName = line.substring(0, line.indexOf('/'));
                String label = line.substring(line.indexOf('/') + 1).replace(".avsc", "");
                try (InputStream in = resource(ROOT + line)) {
                    versions.add(new Version(recordName, label, new Schema.Parser().parse(in)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the schema history", e);
        }
        return versions;
    }

    public static List<Schema> of(String recordName) {
        return all().stream().filter(v -> v.recordName().equals(recordName)).map(Version::schema).toList();
    }

    private static InputStream resource(String path) throws IOException {
        InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IOException("Missing classpath resource " + path);
        }
        return in;
    }
}
