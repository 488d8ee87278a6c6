package io.cosmichorizons.cluster.sql;

import java.util.ArrayList;
import java.util.List;

/** Splits SQL scripts into statements. */
public final class SqlScripts {
    private SqlScripts() {}

    /**
     * The statements of a script: split at semicolons outside quotes and comments; {@code --} and block comments
     * are dropped, blank statements skipped.
     */
    public static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        int n = script.length();
        while (i < n) {
            char c = script.charAt(i);
            if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                while (i < n && script.charAt(i) != '\n') {
                    i++;
                }
                continue;
            }
            if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                int end = script.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                continue;
            }
            if (c == '\'' || c == '"' || c == '`') {
                int j = i + 1;
                while (j < n) {
                    if (script.charAt(j) == c) {
                        if (j + 1 < n && script.charAt(j + 1) == c) {
                            j += 2; // doubled quote inside a literal
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                current.append(script, i, Math.min(j + 1, n));
                i = j + 1;
                continue;
            }
            if (c == ';') {
                add(out, current);
                current.setLength(0);
                i++;
                continue;
            }
            current.append(c);
            i++;
        }
        add(out, current);
        return out;
    }

    /**
     * Replaces {@code ${name}} with the variable's value, quotes doubled (values go inside SQL string literals).
     *
     * @throws IllegalArgumentException naming a variable the script uses but {@code variables} lacks
     */
    public static String substitute(String script, java.util.Map<String, String> variables) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][\\w.-]*)}").matcher(script);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = variables.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException("The script uses ${" + m.group(1) + "}: give it with --var "
                        + m.group(1) + "=VALUE");
            }
            m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(value.replace("'", "''")));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static void add(List<String> out, StringBuilder statement) {
        String s = statement.toString().strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
    }
}
