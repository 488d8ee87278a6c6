package io.cosmichorizons.pipeline.audit.ledger;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The canonical bytes of one ledger entry: what {@code hash = SHA-256(prev_hash || canonical)} covers.
 *
 * <p>Every field is written as {@code <byte length>:<UTF-8 bytes>} (numbers and timestamps as decimal text, times in
 * epoch milliseconds), and a missing (null) field as {@code ~}; the length prefixes make the concatenation
 * unambiguous without escaping. The fields, in order: chain_id, seq, chain_time, source_topic, source_offset,
 * kafka_timestamp, event_id, event_type, job_id, actor, correlation_id, occurred_at, payload. PostgreSQL's
 * {@code audit_canonical()} (migration V002) builds the same bytes, so a DBA can check hashes with {@code sha256()}.
 *
 * <p>A reusable, growable buffer: the verifier writes a million records through one instance without allocating.
 */
public final class CanonicalRecord {
    private byte[] buf = new byte[1024];
    private int len;
    private final byte[] digits = new byte[20];
    private final byte[] lengthDigits = new byte[20];

    /** Starts a new record. */
    public CanonicalRecord reset() {
        len = 0;
        return this;
    }

    /** The canonical bytes of one entry. Strings are given as UTF-8 bytes; {@code jobId} may be null. */
    public CanonicalRecord entry(byte[] chainId, long seq, long chainTime, byte[] sourceTopic, long sourceOffset,
            long kafkaTimestamp, byte[] eventId, byte[] eventType, byte[] jobId, byte[] actor, byte[] correlationId,
            long occurredAt, byte[] payload) {
        reset();
        field(chainId);
        field(seq);
        field(chainTime);
        field(sourceTopic);
        field(sourceOffset);
        field(kafkaTimestamp);
        field(eventId);
        field(eventType);
        field(jobId);
        field(actor);
        field(correlationId);
        field(occurredAt);
        field(payload);
        return this;
    }

    /** A text field (null allowed). */
    public CanonicalRecord field(String value) {
        return field(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** A field given as UTF-8 bytes (null allowed). */
    public CanonicalRecord field(byte[] utf8) {
        if (utf8 == null) {
            ensure(1);
            buf[len++] = '~';
            return this;
        }
        writeDecimal(utf8.length);
        ensure(1 + utf8.length);
        buf[len++] = ':';
        System.arraycopy(utf8, 0, buf, len, utf8.length);
        len += utf8.length;
        return this;
    }

    /** A number field, as decimal text. */
    public CanonicalRecord field(long value) {
        int n = toDigits(value);
        writeDecimal(n);
        ensure(1 + n);
        buf[len++] = ':';
        System.arraycopy(digits, digits.length - n, buf, len, n);
        len += n;
        return this;
    }

    /** Raw bytes appended as they are (a fixed-length hash at the end of a Merkle leaf). */
    public CanonicalRecord raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
        return this;
    }

    public byte[] buffer() {
        return buf;
    }

    public int length() {
        return len;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    /** Writes a length prefix (its own digit buffer: the value's digits may still be pending in {@link #digits}). */
    private void writeDecimal(long value) {
        int n = toDigits(value, lengthDigits);
        ensure(n);
        System.arraycopy(lengthDigits, lengthDigits.length - n, buf, len, n);
        len += n;
    }

    private int toDigits(long value) {
        return toDigits(value, digits);
    }

    /** Writes value's decimal digits right-aligned into {@code digits}; returns how many. */
    private static int toDigits(long value, byte[] digits) {
        if (value == Long.MIN_VALUE) {
            byte[] s = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(s, 0, digits, digits.length - s.length, s.length);
            return s.length;
        }
        boolean negative = value < 0;
        long v = negative ? -value : value;
        int i = digits.length;
        do {
            digits[--i] = (byte) ('0' + (v % 10));
            v /= 10;
        } while (v != 0);
        if (negative) {
            digits[--i] = '-';
        }
        return digits.length - i;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }
}
