package io.cosmichorizons.pipeline.audit.ledger;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MAC key and its id. The key comes from configuration or the environment ({@code AUDIT_MAC_KEY}, base64, at least
 * 16 bytes; {@code AUDIT_MAC_KEY_ID}); without one, a publicly known demo key is used and a warning logged, so a local
 * demo works out of the box but a deployment without a key is visibly unprotected.
 */
public record MacKey(String id, byte[] key) implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(MacKey.class);

    public static final String ENV_KEY = "AUDIT_MAC_KEY";
    public static final String ENV_KEY_ID = "AUDIT_MAC_KEY_ID";
    /** Id of the demo key. Rows carrying it are verifiable by anyone: they prove nothing. */
    public static final String DEMO_KEY_ID = "demo-insecure";

    public MacKey {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("A MAC key needs an id");
        }
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException("MAC key '" + id + "' is shorter than 16 bytes");
        }
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    /** The demo key: SHA-256 of a sentence that is in this source file, i.e. no secret at all. */
    public static MacKey demo() {
        try {
            byte[] k = MessageDigest.getInstance("SHA-256").digest(
                    "Cosmic Horizons demo audit MAC key - public, NOT A SECRET".getBytes(StandardCharsets.UTF_8));
            return new MacKey(DEMO_KEY_ID, k);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean isDemo() {
        return DEMO_KEY_ID.equals(id);
    }

    /** Parses a base64 key (standard or URL alphabet). */
    public static MacKey of(String id, String base64) {
        String s = base64.strip();
        byte[] k;
        try {
            k = s.contains("-") || s.contains("_") ? Base64.getUrlDecoder().decode(s) : Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("MAC key '" + id + "' is not valid base64");
        }
        return new MacKey(id, k);
    }

    /**
     * The configured key: {@code configured}/{@code configuredId} (e.g. from job options) win, then the environment,
     * then the demo key with a warning.
     */
    public static MacKey resolve(String configured, String configuredId, Map<String, String> env) {
        String key = blankToNull(configured) != null ? configured : blankToNull(env.get(ENV_KEY));
        String id = blankToNull(configuredId) != null ? configuredId : blankToNull(env.get(ENV_KEY_ID));
        if (key == null) {
            LOG.warn("No audit MAC key configured (audit.mac-key or {}): using the PUBLIC demo key '{}'. Audit rows "
                    + "written with it can be forged by anyone; configure a secret key outside the demo.", ENV_KEY,
                    DEMO_KEY_ID);
            return demo();
        }
        return of(id == null ? "default" : id, key);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @Override
    public String toString() {
        return "MacKey[" + id + "]"; // never the key itself
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacKey other && id.equals(other.id) && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }
}
