package io.cosmichorizons.pipeline.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.pipeline.audit.ledger.MacKey;
import io.cosmichorizons.pipeline.config.Option;
import io.cosmichorizons.pipeline.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditJobConfigTest {
    private static final String KEY = "c2VjcmV0IGtleSBvZiAzMiBieXRlcyBmb3IgdGVzdHMh";

    @Test
    void macKeyComesFromTheOptionsThenTheEnvironmentThenTheDemoKey() {
        AuditJobConfig fromOptions = AuditJobConfig.from(Settings.of(Map.of("audit.mac-key", KEY, "audit.mac-key-id", "k1")),
                Map.of(MacKey.ENV_KEY, "ZW52aXJvbm1lbnQga2V5IDEyMzQ1Ng=="));
        assertEquals("k1", fromOptions.chainer().macKey().id());
        assertEquals(MacKey.of("k1", KEY), fromOptions.chainer().macKey());

        AuditJobConfig fromEnv = AuditJobConfig.from(Settings.of(Map.of()),
                Map.of(MacKey.ENV_KEY, KEY, MacKey.ENV_KEY_ID, "rotated-2026"));
        assertEquals(MacKey.of("rotated-2026", KEY), fromEnv.chainer().macKey());

        AuditJobConfig demo = AuditJobConfig.from(Settings.of(Map.of()), Map.of());
        assertTrue(demo.chainer().macKey().isDemo());
        assertEquals(MacKey.DEMO_KEY_ID, demo.chainer().macKey().id());
        assertTrue(!demo.chainer().macKey().toString().contains(KEY), "never print a key");
    }

    @Test
    void defaultsAndDocumentedOptions() {
        AuditJobConfig c = AuditJobConfig.from(Settings.of(Map.of()), Map.of());
        assertEquals("horizons-audit", c.groupId());
        assertEquals("job-lifecycle", c.lifecycleTopic());
        assertEquals("audit-trail", c.auditTrailTopic());
        assertEquals(AuditJobConfig.DEFAULT_DEDUP_WINDOW, c.chainer().dedupWindow());
        for (String key : new String[] {"audit.group-id", "audit.mac-key", "audit.mac-key-id", "audit.dedup-window",
                "audit.resume-from-ledger", "topics.audit-trail", "kafka.bootstrap-servers"}) {
            assertTrue(AuditJobConfig.OPTIONS.stream().map(Option::key).anyMatch(key::equals), key);
        }
        assertThrows(IllegalArgumentException.class,
                () -> AuditJobConfig.from(Settings.of(Map.of("audit.mac-key", "c2hvcnQ=")), Map.of()), "too short a key");
        assertThrows(IllegalArgumentException.class,
                () -> AuditJobConfig.from(Settings.of(Map.of("audit.dedup-window", "0")), Map.of()));
    }
}
