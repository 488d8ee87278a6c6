package io.cosmichorizons.cluster.sql;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** Prints query results as an aligned table, CSV (RFC 4180) or JSON (an array of row objects per statement). */
public final class ResultFormatter {

    /** Output formats of {@code bin/horizons sql}. */
    public enum Format { TABLE, CSV, JSON }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ResultFormatter() {}

    public static String format(FlinkSql.Result result, Format format) {
        return switch (format) {
            case TABLE -> table(result);
            case CSV -> csv(result);
            case JSON -> json(result);
        };
    }

    static String table(FlinkSql.Result r) {
        if (r.columns().size() == 1 && r.columns().get(0).equals("result") && r.rows().size() == 1) {
            return String.valueOf(r.rows().get(0).get(0)) + "\n"; // DDL, SET, USE ...: "OK"
        }
        List<List<String>> cells = new ArrayList<>();
        for (List<Object> row : r.rows()) {
            cells.add(row.stream().map(ResultFormatter::text).toList());
        }
        int[] width = new int[r.columns().size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = r.columns().get(i).length();
            for (List<String> row : cells) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        StringBuilder rule = new StringBuilder("+");
        for (int w : width) {
            rule.append("-".repeat(w + 2)).append('+');
        }
        sb.append(rule).append('\n');
        appendRow(sb, r.columns(), width, null);
        sb.append(rule).append('\n');
        for (int j = 0; j < cells.size(); j++) {
            appendRow(sb, cells.get(j), width, r.rows().get(j));
        }
        sb.append(rule).append('\n');
        sb.append(r.rows().size()).append(r.rows().size() == 1 ? " row\n" : " rows\n");
        return sb.toString();
    }

    private static void appendRow(StringBuilder sb, List<String> values, int[] width, List<Object> raw) {
        sb.append('|');
        for (int i = 0; i < width.length; i++) {
            boolean number = raw != null && raw.get(i) instanceof Number;
            String v = values.get(i);
            sb.append(' ').append(number ? " ".repeat(width[i] - v.length()) + v : v + " ".repeat(width[i] - v.length())).append(" |");
        }
        sb.append('\n');
    }

    static String csv(FlinkSql.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.join(",", r.columns().stream().map(ResultFormatter::csvField).toList())).append("\r\n");
        for (List<Object> row : r.rows()) {
            sb.append(String.join(",", row.stream().map(v -> v == null ? "" : csvField(text(v))).toList())).append("\r\n");
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")
                ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String json(FlinkSql.Result r) {
        ArrayNode rows = JSON.createArrayNode();
        for (List<Object> row : r.rows()) {
            ObjectNode o = rows.addObject();
            for (int i = 0; i < r.columns().size(); i++) {
                o.set(r.columns().get(i), JSON.valueToTree(jsonValue(row.get(i))));
            }
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(rows) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object jsonValue(Object v) {
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) {
            return v;
        }
        if (v instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (v.getClass().isArray()) {
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) {
                list.add(jsonValue(Array.get(v, i)));
            }
            return list;
        }
        return v.toString(); // LocalDateTime, LocalDate, Instant: ISO-8601
    }

    /** A value as table/CSV text: null as NULL (table) / empty (CSV), doubles with up to 6 decimals. */
    static String text(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return String.valueOf(d);
            }
            return new BigDecimal(String.format(Locale.ROOT, "%.6f", d)).stripTrailingZeros().toPlainString();
        }
        if (v instanceof byte[] bytes) {
            return "\\x" + HexFormat.of().formatHex(bytes);
        }
        if (v.getClass().isArray()) {
            List<String> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) {
                items.add(text(Array.get(v, i)));
            }
            return "[" + String.join(", ", items) + "]";
        }
        return v.toString();
    }
}
