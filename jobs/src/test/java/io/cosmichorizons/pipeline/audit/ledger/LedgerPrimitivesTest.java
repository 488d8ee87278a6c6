package io.cosmichorizons.pipeline.audit.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The canonical encoding, the RFC 6962 Merkle tree, MACs, and anchor signatures. */
class LedgerPrimitivesTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void canonicalRecordIsLengthPrefixedFieldsInSpecOrder() {
        byte[] bytes = new CanonicalRecord().entry(utf8("job-lifecycle/7"), 12, 1_700_000_000_123L, utf8("job-lifecycle"),
                345, 1_700_000_000_100L, utf8("e-1"), utf8("QUEUED"), null, utf8("zoë"), utf8("c-1"),
                1_699_999_999_000L, utf8("{\"a\":1}")).toByteArray();
        assertEquals("15:job-lifecycle/72:1213:170000000012313:job-lifecycle3:34513:1700000000100"
                + "3:e-16:QUEUED~4:zoë3:c-113:16999999990007:{\"a\":1}", new String(bytes, StandardCharsets.UTF_8));
        // A reused buffer gives the same bytes as a fresh one.
        CanonicalRecord reused = new CanonicalRecord();
        reused.entry(utf8("x"), 1, 2, utf8("t"), 3, 4, utf8("e"), utf8("T"), utf8("j"), utf8("a"), utf8("c"), 5, utf8("p"));
        reused.entry(utf8("job-lifecycle/7"), 12, 1_700_000_000_123L, utf8("job-lifecycle"), 345, 1_700_000_000_100L,
                utf8("e-1"), utf8("QUEUED"), null, utf8("zoë"), utf8("c-1"), 1_699_999_999_000L, utf8("{\"a\":1}"));
        assertEquals(HexFormat.of().formatHex(bytes), HexFormat.of().formatHex(reused.toByteArray()));
        assertEquals("2:-53:100", new String(new CanonicalRecord().field(-5).field(100).toByteArray(), StandardCharsets.UTF_8));
    }

    /** The Merkle Tree Hash test vectors of the Certificate Transparency reference implementation. */
    @Test
    void merkleRootsMatchTheRfc6962TestVectors() {
        HexFormat hex = HexFormat.of();
        List<byte[]> leaves = List.of(new byte[0], hex.parseHex("00"), hex.parseHex("10"), hex.parseHex("2021"),
                hex.parseHex("3031"), hex.parseHex("40414243"), hex.parseHex("5051525354555657"),
                hex.parseHex("606162636465666768696a6b6c6d6e6f"));
        List<String> roots = List.of(
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
        for (int n = 1; n <= leaves.size(); n++) {
            assertEquals(roots.get(n - 1), hex.formatHex(MerkleTree.root(leaves.subList(0, n))), n + " leaves");
        }
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                hex.formatHex(MerkleTree.root(List.of())));
    }

    @Test
    void hmacMatchesRfc4231() {
        byte[] mac = new LedgerCrypto().mac(utf8("Jefe"), utf8("what do ya want for nothing?"));
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", HexFormat.of().formatHex(mac));
    }

    @Test
    void anchorsAreSignedLinkedAndTamperEvident() {
        var pair = AnchorKeys.generate();
        var signer = new AnchorKeys.Signer(pair.getPrivate(), pair.getPublic(), AnchorKeys.keyId(pair.getPublic()));
        List<Anchor.Head> heads = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            heads.add(new Anchor.Head("job-lifecycle/" + i, 10 + i, new LedgerCrypto().sha256(utf8("h" + i)), 1_000 + i, 20 + i));
        }
        Anchor first = Anchor.sign(null, Anchor.PERIODIC, Instant.parse("2026-01-01T00:00:00.123456Z"), null, null, heads, signer);
        Anchor second = Anchor.sign(first, Anchor.PERIODIC, Instant.parse("2026-01-01T00:01:00Z"), null, null, heads, signer);
        assertEquals(1, first.seq());
        assertEquals(2, second.seq());
        assertEquals(HexFormat.of().formatHex(first.anchorHash()), HexFormat.of().formatHex(second.prevAnchorHash()));
        assertTrue(first.signatureValid(pair.getPublic()));
        assertTrue(signer.keyId().startsWith("ed25519:"));
        var other = AnchorKeys.generate();
        assertFalse(first.signatureValid(other.getPublic()));
        Anchor edited = new Anchor(first.seq(), first.kind(), first.createdAt().plusSeconds(1), null, null, heads,
                first.merkleRoot(), first.prevAnchorHash(), first.anchorHash(), first.keyId(), first.signature());
        assertFalse(edited.signatureValid(pair.getPublic()), "a changed time breaks the signature");
        // Heads are leaves in chain-id order, whatever order they come in.
        List<Anchor.Head> reversed = new ArrayList<>(heads);
        java.util.Collections.reverse(reversed);
        assertEquals(HexFormat.of().formatHex(Anchor.merkleRoot(heads)), HexFormat.of().formatHex(Anchor.merkleRoot(reversed)));
    }
}
