package io.cosmichorizons.pipeline.audit;

import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.CommonConfig;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import io.cosmichorizons.topics.Topics;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Everything the audit job can be told, with defaults. Loaded from {@code --config FILE} and {@code --key value}. */
public record AuditJobConfig(
        CommonConfig common,
        String lifecycleTopic,
        String auditTrailTopic,
        String groupId,
        boolean resumeFromLedger,
        AuditChainer.Settings chainer)
        implements Serializable {

    public static final String DEFAULT_GROUP_ID = "horizons-audit";
    public static final int DEFAULT_DEDUP_WINDOW = 10_000;

    public static final List<Option> OPTIONS;

    static {
        List<Option> options = new ArrayList<>(CommonConfig.OPTIONS);
        options.addAll(List.of(
                new Option("topics.lifecycle", Topics.JOB_LIFECYCLE, "Input topic of job lifecycle events"),
                new Option("topics.audit-trail", Topics.AUDIT_TRAIL, "Input topic of audited platform actions"),
                new Option("audit.group-id", DEFAULT_GROUP_ID, "Kafka consumer group of the audit job (its own, independent of the lifecycle job)"),
                new Option("audit.mac-key", "env AUDIT_MAC_KEY", "Base64 HMAC-SHA256 key (16+ bytes) for the entries' MACs; without one a PUBLIC demo key is used and a warning logged"),
                new Option("audit.mac-key-id", "env AUDIT_MAC_KEY_ID, else default", "Id stored with each entry, so keys can be rotated"),
                new Option("audit.dedup-window", String.valueOf(DEFAULT_DEDUP_WINDOW), "Event ids remembered per chain (input partition) to dead-letter re-published events as DUPLICATE_EVENT"),
                new Option("audit.resume-from-ledger", "true", "A chain without Flink state continues after its last entry in PostgreSQL (a fresh start against an existing ledger)")));
        OPTIONS = List.copyOf(options);
    }

    public static AuditJobConfig from(Settings s) {
        return from(s, System.getenv());
    }

    static AuditJobConfig from(Settings s, Map<String, String> env) {
        return new AuditJobConfig(
                CommonConfig.from(s),
                s.get("topics.lifecycle", Topics.JOB_LIFECYCLE),
                s.get("topics.audit-trail", Topics.AUDIT_TRAIL),
                s.get("audit.group-id", DEFAULT_GROUP_ID),
                s.getBoolean("audit.resume-from-ledger", true),
                new AuditChainer.Settings(
                        s.getInt("audit.dedup-window", DEFAULT_DEDUP_WINDOW),
                        MacKey.resolve(s.get("audit.mac-key", null), s.get("audit.mac-key-id", null), env)));
    }

    /** The chain-head lookup the chainer uses for chains without state. */
    public LedgerHeads ledgerHeads() {
        return resumeFromLedger ? LedgerHeads.jdbc(common.jdbcUrl()) : LedgerHeads.none();
    }
}
