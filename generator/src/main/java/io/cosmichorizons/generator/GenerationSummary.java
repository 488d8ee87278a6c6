package io.cosmichorizons.generator;

import io.cosmichorizons.publisher.PublisherMetrics;
import java.time.Duration;
import java.util.Map;

/**
 * What a publishing run did.
 *
 * @param records records published, injected ones included; all were acknowledged (a run with failures throws
 *     {@link WorkloadPublishException} instead of returning)
 * @param recordsPerTopic records per topic name
 * @param validEventsPerType valid events per {@code event_type} header value
 * @param injectedPerKind injected records per kind
 * @param elapsed time from the first send to the last acknowledgement
 * @param ratePerSecond records / elapsed
 * @param publisher the publisher's counters and send latency
 */
public record GenerationSummary(long records, Map<String, Long> recordsPerTopic, Map<String, Long> validEventsPerType,
        Map<InjectionKind, Long> injectedPerKind, Duration elapsed, double ratePerSecond, PublisherMetrics publisher) {}
