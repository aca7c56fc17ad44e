package io.hsmkit.quorum.store;

import java.time.Instant;
import java.util.Objects;

/**
 * One stored audit record. {@code hash} = SHA-256 over the previous record's hash and this record's
 * canonical fields; {@code mac} = HMAC-SHA256 of {@code hash} under the audit key (see
 * {@code io.hsmkit.quorum.AuditLog}). Stores persist the fields as given and never compute them. The
 * byte arrays are copied in and out.
 */
public final class AuditRecord {
    private final long index;
    private final Instant time;
    private final AuditKind kind;
    private final String details;
    private final byte[] prevHash;
    private final byte[] hash;
    private final byte[] mac;

    public AuditRecord(long index, Instant time, AuditKind kind, String details, byte[] prevHash, byte[] hash, byte[] mac) {
        this.index = index;
        this.time = Objects.requireNonNull(time, "time");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.details = Objects.requireNonNull(details, "details");
        this.prevHash = prevHash.clone();
        this.hash = hash.clone();
        this.mac = mac.clone();
    }

    public long index() {
        return index;
    }

    public Instant time() {
        return time;
    }

    public AuditKind kind() {
        return kind;
    }

    public String details() {
        return details;
    }

    public byte[] prevHash() {
        return prevHash.clone();
    }

    public byte[] hash() {
        return hash.clone();
    }

    public byte[] mac() {
        return mac.clone();
    }

    @Override
    public String toString() {
        return "#" + index + " " + time + " " + kind + " " + details;
    }
}
