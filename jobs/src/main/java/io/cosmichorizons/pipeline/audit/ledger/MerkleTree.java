package io.cosmichorizons.pipeline.audit.ledger;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The Merkle Tree Hash of RFC 6962 (Certificate Transparency), section 2.1: {@code MTH({}) = SHA-256()},
 * {@code MTH({d}) = SHA-256(0x00 || d)}, and for n > 1 with k the largest power of two below n,
 * {@code MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))}.
 */
public final class MerkleTree {
    private static final byte LEAF = 0x00;
    private static final byte NODE = 0x01;

    private MerkleTree() {}

    /** The root over {@code leaves} in the given order. */
    public static byte[] root(List<byte[]> leaves) {
        MessageDigest sha = sha256();
        if (leaves.isEmpty()) {
            return sha.digest();
        }
        return root(leaves, 0, leaves.size(), sha);
    }

    private static byte[] root(List<byte[]> leaves, int from, int to, MessageDigest sha) {
        int n = to - from;
        if (n == 1) {
            sha.reset();
            sha.update(LEAF);
            sha.update(leaves.get(from));
            return sha.digest();
        }
        int k = Integer.highestOneBit(n - 1); // largest power of two strictly below n
        byte[] left = root(leaves, from, from + k, sha);
        byte[] right = root(leaves, from + k, to, sha);
        sha.reset();
        sha.update(NODE);
        sha.update(left);
        sha.update(right);
        return sha.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
