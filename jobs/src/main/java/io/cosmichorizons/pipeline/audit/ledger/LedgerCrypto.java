package io.cosmichorizons.pipeline.audit.ledger;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The ledger's hash and MAC: {@code hash = SHA-256(prev_hash || canonical record)}, {@code mac = HMAC-SHA256(key,
 * hash)}. One instance per thread (it keeps its digest and MAC engines).
 */
public final class LedgerCrypto {
    public static final int HASH_BYTES = 32;

    private final MessageDigest sha256;
    private Mac hmac;
    private byte[] hmacKey;

    public LedgerCrypto() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** The prev_hash of a chain's first entry: 32 zero bytes. */
    public static byte[] zeroHash() {
        return new byte[HASH_BYTES];
    }

    /** SHA-256(prev || canonical). */
    public byte[] hash(byte[] prev, CanonicalRecord canonical) {
        sha256.reset();
        sha256.update(prev);
        sha256.update(canonical.buffer(), 0, canonical.length());
        return sha256.digest();
    }

    /** SHA-256 of bytes. */
    public byte[] sha256(byte[]... parts) {
        sha256.reset();
        for (byte[] p : parts) {
            sha256.update(p);
        }
        return sha256.digest();
    }

    /** HMAC-SHA256(key, hash). */
    public byte[] mac(byte[] key, byte[] hash) {
        try {
            if (hmac == null || !MessageDigest.isEqual(hmacKey, key)) {
                hmac = Mac.getInstance("HmacSHA256");
                hmac.init(new SecretKeySpec(key, "HmacSHA256"));
                hmacKey = key.clone();
            }
            return hmac.doFinal(hash);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable: " + e.getMessage(), e);
        }
    }

    /** Constant-time comparison, so a verifier does not leak how much of a forged MAC was right. */
    public static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
