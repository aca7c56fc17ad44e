package io.hsmkit.quorum;

import io.hsmkit.quorum.store.AuditKind;
import io.hsmkit.quorum.store.AuditRecord;
import io.hsmkit.quorum.store.QuorumStore;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tamper-evident audit trail of every request, approval, use and refusal.
 *
 * <p>Record i has {@code hash_i = SHA-256(hash_{i-1} || canonical(i, time, kind, details))} with
 * {@code hash_{-1}} 32 zero bytes, and {@code mac_i = HMAC-SHA256(key, hash_i)}. Editing a record breaks
 * its hash or MAC; removing one breaks the index and chain of the record that takes its place. Removing
 * records from the end is not detectable from the log alone: anchoring the head (count and last hash)
 * on the token is left to the HSM-backed store. The key is given by the caller (later a token key).
 */
public final class AuditLog {
    private static final byte[] GENESIS = new byte[32];

    private final QuorumStore store;
    private final SecretKeySpec key;
    private final Clock clock;

    public AuditLog(QuorumStore store, byte[] macKey, Clock clock) {
        if (macKey.length < 16) {
            throw new IllegalArgumentException("audit MAC key must be at least 16 bytes");
        }
        this.store = store;
        this.key = new SecretKeySpec(macKey.clone(), "HmacSHA256");
        this.clock = clock;
    }

    public AuditRecord append(AuditKind kind, String details) {
        return store.appendAudit(last -> {
            long index = last == null ? 0 : last.index() + 1;
            byte[] prev = last == null ? GENESIS : last.hash();
            java.time.Instant time = clock.instant();
            byte[] hash = hash(prev, index, time, kind, details);
            return new AuditRecord(index, time, kind, details, prev, hash, mac(hash));
        });
    }

    public List<AuditRecord> records() {
        return store.audit();
    }

    /** @return the position of the first record whose index, chain link, hash or MAC is wrong, or -1 if all verify */
    public long verify() {
        return verify(store.audit());
    }

    long verify(List<AuditRecord> records) {
        byte[] prev = GENESIS;
        for (int i = 0; i < records.size(); i++) {
            AuditRecord r = records.get(i);
            byte[] expected = hash(prev, i, r.time(), r.kind(), r.details());
            if (r.index() != i || !MessageDigest.isEqual(prev, r.prevHash()) || !MessageDigest.isEqual(expected, r.hash())
                    || !MessageDigest.isEqual(mac(expected), r.mac())) {
                return i;
            }
            prev = expected;
        }
        return -1;
    }

    static byte[] hash(byte[] prev, long index, java.time.Instant time, AuditKind kind, String details) {
        byte[] fields = new Canonical.Writer().string("hsmkit-quorum-audit-v1").bytes(prev).int8(index)
                .int8(time.getEpochSecond()).int4(time.getNano()).string(kind.name()).string(details).toByteArray();
        return Canonical.sha256(fields);
    }

    private byte[] mac(byte[] hash) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m.doFinal(hash);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }
}
