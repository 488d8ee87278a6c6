package io.cosmichorizons.pipeline.audit.ledger;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * A signed anchor (table {@code audit_anchors} and its leaves in {@code audit_anchor_heads}), like a Certificate
 * Transparency signed tree head.
 *
 * <p>The signed bytes ({@link #signedBytes}) are a small text document: format tag, anchor seq, kind, time, retention
 * cut, chain count, the RFC 6962 Merkle root over the heads (sorted by chain id), the previous anchor's hash, and the
 * key id. {@code anchor_hash = SHA-256(signed bytes)} links the next anchor to this one; {@code signature} is Ed25519
 * over the signed bytes.
 *
 * @param kind {@code periodic} (heads = each chain's last entry) or {@code retention} (heads = each chain's last
 *     removed entry at the cut)
 * @param retentionCut for retention anchors: entries with chain_time before it are removed
 * @param keepDays for retention anchors: the policy applied
 */
public record Anchor(long seq, String kind, Instant createdAt, Instant retentionCut, Integer keepDays, List<Head> heads,
        byte[] merkleRoot, byte[] prevAnchorHash, byte[] anchorHash, String keyId, byte[] signature) {

    public static final String PERIODIC = "periodic";
    public static final String RETENTION = "retention";

    public Anchor {
        heads = heads.stream().sorted(Comparator.comparing(Head::chainId)).toList();
    }

    /** One leaf: a chain's entry at the anchor (seq, hash, and where it stands in chain time and source offsets). */
    public record Head(String chainId, long seq, byte[] hash, long chainTime, long sourceOffset) {
        /** The leaf bytes: the canonical fields chain_id, seq, chain_time, source_offset, then the 32-byte hash. */
        public byte[] leaf() {
            return new CanonicalRecord().field(chainId).field(seq).field(chainTime).field(sourceOffset).raw(hash)
                    .toByteArray();
        }
    }

    public boolean isRetention() {
        return RETENTION.equals(kind);
    }

    public static byte[] merkleRoot(List<Head> heads) {
        List<byte[]> leaves = new ArrayList<>();
        heads.stream().sorted(Comparator.comparing(Head::chainId)).forEach(h -> leaves.add(h.leaf()));
        return MerkleTree.root(leaves);
    }

    /** The bytes the signature and anchor_hash cover. */
    public static byte[] signedBytes(long seq, String kind, Instant createdAt, Instant retentionCut, Integer keepDays,
            int chainCount, byte[] merkleRoot, byte[] prevAnchorHash, String keyId) {
        HexFormat hex = HexFormat.of();
        String text = "horizons-audit-anchor/1\n"
                + "seq=" + seq + "\n"
                + "kind=" + kind + "\n"
                + "created_at=" + createdAt.toEpochMilli() + "\n"
                + "retention_cut=" + (retentionCut == null ? "-" : String.valueOf(retentionCut.toEpochMilli())) + "\n"
                + "keep_days=" + (keepDays == null ? "-" : String.valueOf(keepDays)) + "\n"
                + "chains=" + chainCount + "\n"
                + "merkle_root=" + hex.formatHex(merkleRoot) + "\n"
                + "prev_anchor_hash=" + hex.formatHex(prevAnchorHash) + "\n"
                + "key_id=" + keyId + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    public byte[] signedBytes() {
        return signedBytes(seq, kind, createdAt, retentionCut, keepDays, heads.size(), merkleRoot, prevAnchorHash, keyId);
    }

    /** Builds and signs the anchor that follows {@code previous} (null for the first one). */
    public static Anchor sign(Anchor previous, String kind, Instant createdAt, Instant retentionCut, Integer keepDays,
            List<Head> heads, AnchorKeys.Signer signer) {
        long seq = previous == null ? 1 : previous.seq() + 1;
        byte[] prev = previous == null ? LedgerCrypto.zeroHash() : previous.anchorHash();
        // Stored with millisecond precision, which is what gets signed.
        Instant created = Instant.ofEpochMilli(createdAt.toEpochMilli());
        byte[] root = merkleRoot(heads);
        byte[] signed = signedBytes(seq, kind, created, retentionCut, keepDays, heads.size(), root, prev, signer.keyId());
        byte[] anchorHash = new LedgerCrypto().sha256(signed);
        return new Anchor(seq, kind, created, retentionCut, keepDays, heads, root, prev, anchorHash, signer.keyId(),
                signer.sign(signed));
    }

    /** Whether the signature is valid under {@code key}. */
    public boolean signatureValid(PublicKey key) {
        return AnchorKeys.verify(key, signedBytes(), signature);
    }
}
