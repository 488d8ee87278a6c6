package io.cosmichorizons.testbed;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** String helpers for PostgreSQL JDBC URLs ({@code jdbc:postgresql://host[:port][,...]/database?key=value&...}). */
public final class JdbcUrls {

    private static final Pattern URL = Pattern.compile("^(jdbc:postgresql://[^/?]*)(/[^?]*)?(\\?.*)?$");
    private static final Pattern PASSWORD = Pattern.compile("([?&]password=)[^&]*");

    private JdbcUrls() {
    }

    /** The same URL pointing at another database; host, port and parameters are kept. */
    public static String withDatabase(String jdbcUrl, String database) {
        Matcher m = URL.matcher(jdbcUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("Not a jdbc:postgresql://host/database URL: " + redact(jdbcUrl));
        }
        return m.group(1) + "/" + database + (m.group(3) != null ? m.group(3) : "");
    }

    /** The database named in the URL, or "" if none. */
    public static String database(String jdbcUrl) {
        Matcher m = URL.matcher(jdbcUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("Not a jdbc:postgresql://host/database URL: " + redact(jdbcUrl));
        }
        return m.group(2) == null ? "" : m.group(2).substring(1);
    }

    /** The URL with the value of a {@code password} parameter replaced by {@code ***}, for logs. */
    public static String redact(String jdbcUrl) {
        return jdbcUrl == null ? null : PASSWORD.matcher(jdbcUrl).replaceAll("$1***");
    }
}
