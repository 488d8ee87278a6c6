package io.cosmichorizons.pipeline.audit.ledger;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * {@code audit anchor}: verifies each chain's extension since the latest anchor, then appends a signed periodic
 * anchor holding every chain's head. Refuses (appends nothing) when the verification finds any problem, so an anchor
 * never vouches for a tampered ledger.
 */
public final class LedgerAnchoring {
    private LedgerAnchoring() {}

    /** The verification that was run, and the anchor appended (null when refused). */
    public record Outcome(LedgerVerifier.Report verification, Anchor anchor) {
        public boolean anchored() {
            return anchor != null;
        }
    }

    /**
     * Verifies and anchors. {@code verifyOptions} carries the MAC keys and trusted anchor keys; the signer's own
     * public key is trusted in addition.
     */
    public static Outcome anchor(String jdbcUrl, AnchorKeys.Signer signer, LedgerVerifier.Options verifyOptions,
            Clock clock) throws SQLException, InterruptedException {
        LedgerVerifier.Options options = withSignerTrusted(verifyOptions, signer).startingAtLatestAnchor();
        LedgerVerifier.Report report = new LedgerVerifier(jdbcUrl, options).verify();
        if (!report.clean()) {
            return new Outcome(report, null);
        }
        List<Anchor.Head> heads = report.chains().stream().map(LedgerVerifier.ChainResult::head)
                .filter(Objects::nonNull).toList();
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            Anchor previous = AnchorStore.latest(c);
            Anchor anchor = Anchor.sign(previous, Anchor.PERIODIC, clock.instant(), null, null, heads, signer);
            AnchorStore.insert(c, anchor);
            return new Outcome(report, anchor);
        }
    }

    static LedgerVerifier.Options withSignerTrusted(LedgerVerifier.Options options, AnchorKeys.Signer signer) {
        List<java.security.PublicKey> keys = new java.util.ArrayList<>(options.anchorKeys());
        if (keys.stream().noneMatch(k -> AnchorKeys.keyId(k).equals(signer.keyId()))) {
            keys.add(signer.publicKey());
        }
        return new LedgerVerifier.Options(options.macKeys(), options.checkMacs(), keys, options.chainId(),
                options.jobId(), options.since(), options.fromLatestAnchor(), options.threads());
    }
}
