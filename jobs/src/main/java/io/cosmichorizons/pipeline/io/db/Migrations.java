package io.cosmichorizons.pipeline.io.db;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small ordered migration runner for the versioned scripts in sql/migrations (V001__name.sql, ...). Each script runs
 * once, in its own transaction, under an advisory lock so concurrent runners wait for each other; the checksum of
 * every applied script is recorded and re-checked, so an edited migration is reported instead of silently ignored.
 */
public final class Migrations {
    private static final String RESOURCE_DIR = "sql/migrations";
    private static final Pattern NAME = Pattern.compile("V(\\d+)__([\\w-]+)\\.sql");
    private static final long LOCK_ID = 0x686f72697a6f6eL; // "horizon"

    /** One versioned script. */
    public record Migration(int version, String name, String sql) {
        String checksum() {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sql.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private Migrations() {}

    /** Applies pending migrations; returns the ones applied now. */
    public static List<Migration> migrate(String jdbcUrl, Consumer<String> log) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            return migrate(c, log);
        }
    }

    public static List<Migration> migrate(Connection c, Consumer<String> log) throws SQLException {
        List<Migration> all = load();
        List<Migration> applied = new ArrayList<>();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + LOCK_ID + ")");
        }
        try {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
                        + "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
            }
            TreeMap<Integer, String> done = new TreeMap<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version, checksum FROM schema_migrations")) {
                while (rs.next()) {
                    done.put(rs.getInt(1), rs.getString(2));
                }
            }
            for (Migration m : all) {
                String checksum = done.get(m.version());
                if (checksum != null) {
                    if (!checksum.equals(m.checksum())) {
                        throw new SQLException("Migration V" + m.version() + "__" + m.name() + " was changed after it was "
                                + "applied (checksum differs). Add a new migration instead of editing an applied one.");
                    }
                    continue;
                }
                log.accept("Applying V" + String.format("%03d", m.version()) + "__" + m.name());
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute(m.sql());
                    try (PreparedStatement p = c.prepareStatement(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)")) {
                        p.setInt(1, m.version());
                        p.setString(2, m.name());
                        p.setString(3, m.checksum());
                        p.executeUpdate();
                    }
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw new SQLException("Migration V" + m.version() + "__" + m.name() + " failed: " + e.getMessage(), e);
                } finally {
                    c.setAutoCommit(true);
                }
                applied.add(m);
            }
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(" + LOCK_ID + ")");
            }
        }
        return applied;
    }

    /** The scripts on the classpath (shipped in the job jar and the CLI), ordered by version. */
    public static List<Migration> load() {
        TreeMap<Integer, Migration> byVersion = new TreeMap<>();
        try {
            URL dir = Migrations.class.getClassLoader().getResource(RESOURCE_DIR);
            if (dir == null) {
                throw new IllegalStateException("No " + RESOURCE_DIR + " on the classpath");
            }
            for (String file : list(dir)) {
                Matcher m = NAME.matcher(file);
                if (!m.matches()) {
                    continue;
                }
                int version = Integer.parseInt(m.group(1));
                try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + "/" + file)) {
                    String sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    Migration previous = byVersion.put(version, new Migration(version, m.group(2), sql));
                    if (previous != null) {
                        throw new IllegalStateException("Two migrations with version " + version);
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("Cannot list " + RESOURCE_DIR + ": " + e.getMessage(), e);
        }
        return List.copyOf(byVersion.values());
    }

    private static List<String> list(URL dir) throws IOException, URISyntaxException {
        List<String> names = new ArrayList<>();
        if ("jar".equals(dir.getProtocol())) {
            JarURLConnection connection = (JarURLConnection) dir.openConnection();
            connection.setUseCaches(false); // closing a cached JarFile would close it under the class loader
            try (JarFile jar = connection.getJarFile()) {
                Enumeration<JarEntry> entries = jar.entries();
                while (entries.hasMoreElements()) {
                    String n = entries.nextElement().getName();
                    if (n.startsWith(RESOURCE_DIR + "/") && n.length() > RESOURCE_DIR.length() + 1) {
                        names.add(n.substring(RESOURCE_DIR.length() + 1));
                    }
                }
            }
        } else {
            try (var files = Files.list(Path.of(dir.toURI()))) {
                files.forEach(p -> names.add(p.getFileName().toString()));
            }
        }
        return names;
    }
}
