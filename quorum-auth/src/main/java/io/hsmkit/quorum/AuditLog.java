package io.hsmkit.quorum;

import io.hsmkit.quorum.store.AuditKind;
import io.hsmkit.quorum.store.AuditRecord;
import io.hsmkit.quorum.store.QuorumStore;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tamper-evident audit trail of every request, approval, use and refusal.
 *
 * <p>Record i has {@code hash_i = SHA-256(hash_{i-1} || canonical(i, time, kind, details))} with
 * {@code hash_{-1}} 32 zero bytes, and {@code mac_i = MAC(hash_i)}. Editing a record breaks its hash or
 * MAC; removing one breaks the index and chain of the record that takes its place.
 *
 * <p>Removing records from the end leaves a shorter chain that verifies on its own, so after each append
 * the log also writes a checkpoint (store record {@value #CHECKPOINT_KIND}/{@value #CHECKPOINT_KEY}):
 * {@code count hex(hash of record count-1) hex(MAC(canonical("hsmkit-quorum-audit-checkpoint-v1", count, hash)))}.
 * {@link #check()} refuses a chain shorter than its checkpoint, naming the missing records. The
 * checkpoint is written after the record, so after a crash between the two it may lag by one record;
 * a chain longer than its checkpoint is therefore accepted if it agrees at the checkpoint's record.
 * What no checkpoint can catch is a rollback of the chain and the checkpoint together to an older,
 * consistent pair someone saved: that needs a monotonic counter in the HSM.
 *
 * <p>The MAC is given by the caller: {@code TokenQuorumStore.auditMac()} computes HMAC-SHA256 with a
 * sensitive, non-extractable key in the token; a byte key (HMAC-SHA256 in the JDK) serves the file store.
 */
public final class AuditLog {
    private static final byte[] GENESIS = new byte[32];
    public static final String CHECKPOINT_KIND = "checkpoint";
    public static final String CHECKPOINT_KEY = "audit";

    private final QuorumStore store;
    private final UnaryOperator<byte[]> mac;
    private final Clock clock;

    /** The outcome of {@link #check()}: {@code problem} is null when the log verifies. */
    public record Verification(int records, long checkpointCount, long brokenAt, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    public AuditLog(QuorumStore store, byte[] macKey, Clock clock) {
        this(store, hmac(macKey), clock);
    }

    /** @param mac the MAC of a record hash or checkpoint; must be deterministic for one key */
    public AuditLog(QuorumStore store, UnaryOperator<byte[]> mac, Clock clock) {
        this.store = Objects.requireNonNull(store);
        this.mac = Objects.requireNonNull(mac);
        this.clock = Objects.requireNonNull(clock);
    }

    private static UnaryOperator<byte[]> hmac(byte[] macKey) {
        if (macKey.length < 16) {
            throw new IllegalArgumentException("audit MAC key must be at least 16 bytes");
        }
        SecretKeySpec key = new SecretKeySpec(macKey.clone(), "HmacSHA256");
        return data -> {
            try {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(key);
                return m.doFinal(data);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
            }
        };
    }

    public AuditRecord append(AuditKind kind, String details) {
        AuditRecord r = store.appendAudit(last -> {
            long index = last == null ? 0 : last.index() + 1;
            byte[] prev = last == null ? GENESIS : last.hash();
            Instant time = clock.instant();
            byte[] hash = hash(prev, index, time, kind, details);
            return new AuditRecord(index, time, kind, details, prev, hash, mac.apply(hash));
        });
        long count = r.index() + 1;
        HexFormat hx = HexFormat.of();
        store.putRecord(CHECKPOINT_KIND, CHECKPOINT_KEY,
                count + " " + hx.formatHex(r.hash()) + " " + hx.formatHex(mac.apply(checkpointBytes(count, r.hash()))));
        return r;
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
                    || !MessageDigest.isEqual(mac.apply(expected), r.mac())) {
                return i;
            }
            prev = expected;
        }
        return -1;
    }

    /**
     * Verifies the chain (every hash and MAC) and then its end against the checkpoint: records removed
     * from the end are reported as missing.
     */
    public Verification check() {
        List<AuditRecord> records = store.audit();
        int n = records.size();
        long broken = verify(records);
        if (broken >= 0) {
            return new Verification(n, -1, broken, "audit record " + broken + " of " + n
                    + " does not verify (edited, removed or out of order)");
        }
        String cp = store.records(CHECKPOINT_KIND).get(CHECKPOINT_KEY);
        if (cp == null) {
            return n == 0 ? new Verification(0, 0, -1, null)
                    : new Verification(n, -1, n, "no audit checkpoint for the " + n + " records: the checkpoint was removed");
        }
        String[] f = cp.split(" ");
        long count;
        byte[] hash;
        byte[] cpMac;
        try {
            count = Long.parseLong(f[0]);
            hash = HexFormat.of().parseHex(f[1]);
            cpMac = HexFormat.of().parseHex(f[2]);
        } catch (RuntimeException e) {
            return new Verification(n, -1, n, "the audit checkpoint is unreadable");
        }
        if (!MessageDigest.isEqual(mac.apply(checkpointBytes(count, hash)), cpMac)) {
            return new Verification(n, -1, n, "the audit checkpoint does not verify (forged or edited)");
        }
        // = issue 5 (truncation): records removed from the end of the log must be detected.
        if (count > n) {
            return new Verification(n, count, n, "audit log truncated: it ends after record " + (n - 1) + " but the checkpoint counts "
                    + count + " records; record" + (count - n == 1 ? " " + n + " is" : "s " + n + ".." + (count - 1) + " are") + " missing");
        }
        if (count > 0 && !MessageDigest.isEqual(records.get((int) count - 1).hash(), hash)) {
            return new Verification(n, count, count - 1, "audit record " + (count - 1) + " is not the one the checkpoint names");
        }
        return new Verification(n, count, -1, null);
    }

    private static byte[] checkpointBytes(long count, byte[] hash) {
        return new Canonical.Writer().string("hsmkit-quorum-audit-checkpoint-v1").int8(count).bytes(hash).toByteArray();
    }

    static byte[] hash(byte[] prev, long index, Instant time, AuditKind kind, String details) {
        byte[] fields = new Canonical.Writer().string("hsmkit-quorum-audit-v1").bytes(prev).int8(index)
                .int8(time.getEpochSecond()).int4(time.getNano()).string(kind.name()).string(details).toByteArray();
        return Canonical.sha256(fields);
    }
}
