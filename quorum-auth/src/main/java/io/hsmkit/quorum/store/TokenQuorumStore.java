package io.hsmkit.quorum.store;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.SignatureScheme;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A {@link QuorumStore} kept on the HSM itself as token data objects, so the quorum state travels with
 * the token (issue 5).
 *
 * <p>Every record is one {@code CKO_DATA} object with {@code CKA_TOKEN} and {@code CKA_PRIVATE} true,
 * {@code CKA_APPLICATION} {@value #APPLICATION}, {@code CKA_LABEL} {@code <kind>:<key>}
 * ({@code officer:<id>}, {@code value:<service>}, {@code consumed:<nonce hex>}, {@code pending:<token id>},
 * {@code audit:<index>}, {@code rec:<kind>:<key>}) and {@code CKA_VALUE} the UTF-8 bytes of the record's line in the encoding
 * {@link FileQuorumStore} uses. {@code CKA_OBJECT_ID} holds a seal: an 8-byte version followed by
 * SHA-256 over the label, version and value. A record whose seal does not match (an object the token
 * kept half-written when a process died) is never accepted: reads ignore it.
 *
 * <p>Crash safety: every change is a single {@code C_CreateObject} or {@code C_DestroyObject}, each of
 * which the token applies as a whole. A replacement (a quorum value set again, an officer put again)
 * creates the new record with a higher version before destroying the old one; reads take the highest
 * valid version, so a crash between the two leaves the new value in force, never neither.
 *
 * <p>Atomicity of {@link #consume(byte[])} and {@link #appendAudit(Function)}:
 * <ul>
 *   <li>Within one JVM all instances serialise on one lock, and do find-then-create under it: exactly
 *       one of any number of concurrent threads consumes a nonce.</li>
 *   <li>Across processes PKCS#11 has no compare-and-set, so a claim protocol is used: create the record
 *       with a random claim id, then find every valid record with that label; if any other exists the
 *       claim loses and its own object is destroyed. Of two claims the one created later finds the
 *       earlier one (an object is destroyed only by its own losing claimer), so at most one claim ever
 *       wins. Under an exact race both may lose: {@code consume} then answers {@code false} for a token
 *       nobody used (a spurious refusal the requester can retry; never a double use), and
 *       {@code appendAudit} retries after a random pause. This relies on the token making a created
 *       object visible to other processes' searches once {@code C_CreateObject} returned, as SoftHSM2
 *       (one file per object, re-indexed on every search) does.</li>
 *   <li>Replacements of officers and values by two processes at once are last-writer-wins with no
 *       defined order; they are quorum-guarded administrative changes and are expected to be rare.</li>
 * </ul>
 *
 * <p>Limits: PKCS#11 cannot search by label prefix, so each read lists and reads all of this store's
 * objects: O(records). Consumed nonces can be pruned ({@link #pruneConsumed}); audit records grow on the token.
 * The store neither opens nor closes the pool it is given.
 */
public final class TokenQuorumStore implements QuorumStore {
    public static final String APPLICATION = "hsmkit-quorum";

    static final String OFFICER = "officer:";
    static final String VALUE = "value:";
    static final String CONSUMED = "consumed:";
    static final String PENDING = "pending:";
    static final String AUDIT = "audit:";
    static final String RECORD = "rec:";
    /**
     * The CKA_ID (ASCII) of the token's HMAC key for the audit log. It has no CKA_LABEL, so that the
     * HsmKit KeyStore, whose aliases are labels, does not list it as an entry.
     */
    public static final String AUDIT_KEY_ID = "hsmkit-quorum-audit";

    /** One lock for every instance in this JVM: two pools on one token must not race each other either. */
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();
    private static final int MAX_APPEND_TRIES = 50;

    private final SessionPool pool;
    private final SecureRandom random = new SecureRandom();

    public TokenQuorumStore(SessionPool pool) {
        this.pool = Objects.requireNonNull(pool, "pool");
    }

    /** One valid record read from the token. */
    record Rec(long handle, String label, long version, byte[] value) {
        String text() {
            return new String(value, StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------- officers

    @Override
    public Map<String, Officer> officers() {
        Map<String, Officer> m = new LinkedHashMap<>();
        for (Rec r : latest(OFFICER).values()) {
            String[] f = r.text().split("\t", -1);
            if (f.length != 3) {
                throw corrupt(r);
            }
            try {
                SignatureScheme scheme = SignatureScheme.fromJcaName(f[1]);
                m.put(f[0], new Officer(f[0], scheme.decodePublicKey(Base64.getDecoder().decode(f[2])), scheme));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalStateException("corrupt officer record on the token: " + r.label(), e);
            }
        }
        return m;
    }

    @Override
    public void putOfficer(Officer officer) {
        String line = officer.id() + "\t" + officer.scheme().jcaName() + "\t"
                + Base64.getEncoder().encodeToString(officer.publicKey().getEncoded());
        replace(OFFICER + officer.id(), line);
    }

    @Override
    public boolean removeOfficer(String id) {
        return locked(() -> destroyAll(OFFICER + id) > 0);
    }

    // ---------------------------------------------------------------- values

    @Override
    public Map<Service, Integer> values() {
        Map<Service, Integer> m = new EnumMap<>(Service.class);
        for (Rec r : latest(VALUE).values()) {
            String line = r.text();
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw corrupt(r);
            }
            try {
                m.put(Service.fromWireName(line.substring(0, eq)), Integer.parseInt(line.substring(eq + 1)));
            } catch (RuntimeException e) {
                throw new IllegalStateException("corrupt value record on the token: " + r.label(), e);
            }
        }
        return m;
    }

    @Override
    public void setValue(Service service, int k) {
        replace(VALUE + service.wireName(), service.wireName() + "=" + k);
    }

    // ---------------------------------------------------------------- consumed nonces

    @Override
    public boolean consume(byte[] nonce, Instant created) {
        String label = CONSUMED + HexFormat.of().formatHex(nonce);
        // "hex" alone (never pruned) or "hex<TAB>creation epoch seconds".
        String line = HexFormat.of().formatHex(nonce) + (created.equals(Instant.MAX) ? "" : "\t" + created.getEpochSecond());
        byte[] value = line.getBytes(StandardCharsets.UTF_8);
        return locked(() -> {
            if (!find(label).isEmpty()) {
                return false;
            }
            // Durable before we answer true: the object exists once C_CreateObject returned.
            return claim(label, value);
        });
    }

    @Override
    public boolean isConsumed(byte[] nonce) {
        return !find(CONSUMED + HexFormat.of().formatHex(nonce)).isEmpty();
    }

    @Override
    public int pruneConsumed(Instant floor) {
        return locked(() -> {
            int n = 0;
            for (Rec r : all(CONSUMED)) {
                String[] f = r.text().split("\t", -1);
                if (f.length == 2 && Long.parseLong(f[1]) < floor.getEpochSecond()) {
                    destroy(r.handle());
                    n++;
                }
            }
            return n;
        });
    }

    // ---------------------------------------------------------------- named records

    @Override
    public Map<String, String> records(String kind) {
        QuorumStore.checkRecord(kind, "x", null);
        String prefix = RECORD + kind + ":";
        Map<String, String> m = new TreeMap<>();
        latest(prefix).forEach((label, r) -> m.put(label.substring(prefix.length()), r.text()));
        return m;
    }

    @Override
    public void putRecord(String kind, String key, String value) {
        QuorumStore.checkRecord(kind, key, value);
        replace(RECORD + kind + ":" + key, value);
    }

    @Override
    public boolean removeRecord(String kind, String key) {
        QuorumStore.checkRecord(kind, key, null);
        return locked(() -> destroyAll(RECORD + kind + ":" + key) > 0);
    }

    // ---------------------------------------------------------------- the audit key

    /**
     * HMAC-SHA256 under the token's audit key (CKA_ID {@value #AUDIT_KEY_ID}, no label): a generic secret made in
     * the token on first use, sensitive and never extractable, so that nobody holding only the store's
     * objects can forge audit MACs or checkpoints. Two processes making it at once settle on one key by
     * the claim rule of {@link #claim}: whoever finds a key it did not make destroys its own and uses that one.
     */
    public UnaryOperator<byte[]> auditMac() {
        auditKey();
        return data -> onToken(false, s -> s.sign(Mechanism.of(CKM.SHA256_HMAC), findAuditKey(s), data));
    }

    private static Attribute[] auditKeyTemplate() {
        return new Attribute[] {
            Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY),
            Attribute.bytes(CKA.ID, AUDIT_KEY_ID.getBytes(StandardCharsets.US_ASCII)),
            Attribute.bool(CKA.TOKEN, true),
        };
    }

    private long findAuditKey(Session s) {
        long[] keys = s.findObjects(2, auditKeyTemplate());
        if (keys.length != 1) {
            throw new IllegalStateException(keys.length == 0 ? "the audit key " + AUDIT_KEY_ID + " is gone from the token"
                    : "more than one audit key " + AUDIT_KEY_ID + " on the token");
        }
        return keys[0];
    }

    private void auditKey() {
        locked(() -> {
            for (int attempt = 1; ; attempt++) {
                long[] existing = onToken(false, s -> s.findObjects(2, auditKeyTemplate()));
                if (existing.length == 1) {
                    return null;
                }
                if (existing.length == 0) {
                    long mine = onToken(true, s -> s.generateKey(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN),
                            Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET),
                            Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true),
                            Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false),
                            Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true),
                            Attribute.bytes(CKA.ID, AUDIT_KEY_ID.getBytes(StandardCharsets.US_ASCII))));
                    long[] now = onToken(false, s -> s.findObjects(4, auditKeyTemplate()));
                    if (now.length == 1) {
                        return null;
                    }
                    destroy(mine); // another process made one at the same time: keep theirs (or retry)
                }
                if (attempt >= MAX_APPEND_TRIES) {
                    throw new IllegalStateException("cannot settle on one audit key on the token after " + attempt + " tries");
                }
                pause();
            }
        });
    }

    // ---------------------------------------------------------------- pending tokens

    @Override
    public List<ApprovalToken> pending() {
        List<ApprovalToken> out = new ArrayList<>();
        for (Rec r : latest(PENDING).values()) {
            try {
                out.add(ApprovalToken.fromBytes(Base64.getDecoder().decode(r.text())));
            } catch (RuntimeException e) {
                throw new IllegalStateException("corrupt pending record on the token: " + r.label(), e);
            }
        }
        return List.copyOf(out);
    }

    @Override
    public void putPending(ApprovalToken token) {
        replace(PENDING + token.id(), Base64.getEncoder().encodeToString(token.toBytes()));
    }

    @Override
    public void removePending(String tokenId) {
        locked(() -> destroyAll(PENDING + tokenId));
    }

    // ---------------------------------------------------------------- audit

    @Override
    public AuditRecord appendAudit(Function<AuditRecord, AuditRecord> next) {
        return locked(() -> {
            for (int attempt = 1; ; attempt++) {
                List<AuditRecord> existing = readAudit();
                AuditRecord last = existing.isEmpty() ? null : existing.get(existing.size() - 1);
                AuditRecord r = next.apply(last);
                long expected = last == null ? 0 : last.index() + 1;
                if (r.index() != expected) {
                    throw new IllegalArgumentException("audit record " + r.index() + " does not follow " + (expected - 1));
                }
                if (claim(AUDIT + r.index(), encodeAudit(r).getBytes(StandardCharsets.UTF_8))) {
                    return r;
                }
                // Another process appended this index (or raced us to it): chain after what is there now.
                if (attempt >= MAX_APPEND_TRIES) {
                    throw new IllegalStateException("cannot append audit record " + r.index() + ": contended " + attempt + " times");
                }
                pause();
            }
        });
    }

    @Override
    public List<AuditRecord> audit() {
        return readAudit();
    }

    private List<AuditRecord> readAudit() {
        TreeMap<Long, List<AuditRecord>> byIndex = new TreeMap<>();
        for (Rec r : all(AUDIT)) {
            AuditRecord a = decodeAudit(r);
            if (!r.label().equals(AUDIT + a.index())) {
                throw corrupt(r);
            }
            byIndex.computeIfAbsent(a.index(), i -> new ArrayList<>()).add(a);
        }
        List<AuditRecord> out = new ArrayList<>();
        byte[] prev = null;
        for (List<AuditRecord> candidates : byIndex.values()) {
            // Two records of one index exist only if a process died between its claim and its check;
            // take the one that chains to what came before (both are sealed and MACed, neither is forged).
            AuditRecord pick = candidates.get(0);
            for (AuditRecord c : candidates) {
                if (prev != null && MessageDigest.isEqual(prev, c.prevHash())) {
                    pick = c;
                    break;
                }
            }
            out.add(pick);
            prev = pick.hash();
        }
        return out;
    }

    private static String encodeAudit(AuditRecord r) {
        HexFormat hx = HexFormat.of();
        return r.index() + "\t" + r.time() + "\t" + r.kind() + "\t"
                + Base64.getEncoder().encodeToString(r.details().getBytes(StandardCharsets.UTF_8)) + "\t"
                + hx.formatHex(r.prevHash()) + "\t" + hx.formatHex(r.hash()) + "\t" + hx.formatHex(r.mac());
    }

    private static AuditRecord decodeAudit(Rec rec) {
        String[] f = rec.text().split("\t", -1);
        if (f.length != 7) {
            throw corrupt(rec);
        }
        HexFormat hx = HexFormat.of();
        try {
            return new AuditRecord(Long.parseLong(f[0]), Instant.parse(f[1]), AuditKind.valueOf(f[2]),
                    new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8),
                    hx.parseHex(f[4]), hx.parseHex(f[5]), hx.parseHex(f[6]));
        } catch (RuntimeException e) {
            throw new IllegalStateException("corrupt audit record on the token: " + rec.label(), e);
        }
    }

    @Override
    public void close() {
        // The pool belongs to the caller.
    }

    // ---------------------------------------------------------------- token objects

    private static Attribute[] base() {
        return new Attribute[] {
            Attribute.ulong(CKA.CLASS, CKO.DATA),
            Attribute.bool(CKA.TOKEN, true),
            Attribute.string(CKA.APPLICATION, APPLICATION),
        };
    }

    private static Attribute[] withLabel(String label) {
        Attribute[] b = base();
        Attribute[] t = java.util.Arrays.copyOf(b, b.length + 1);
        t[b.length] = Attribute.string(CKA.LABEL, label);
        return t;
    }

    /** Every valid record whose label starts with {@code prefix}. Objects failing their seal are skipped. */
    List<Rec> all(String prefix) {
        return onToken(false, s -> {
            List<Rec> out = new ArrayList<>();
            for (long h : s.findObjects(base())) {
                Attribute[] a = attributes(s, h, CKA.LABEL, CKA.OBJECT_ID, CKA.VALUE);
                if (a == null || !a[0].present() || !a[1].present() || !a[2].present()) {
                    continue;
                }
                String label = a[0].asString();
                if (label.startsWith(prefix)) {
                    Rec r = open(h, label, a[1].value(), a[2].value());
                    if (r != null) {
                        out.add(r);
                    }
                }
            }
            return out;
        });
    }

    /** The valid records labelled exactly {@code label}. */
    private List<Rec> find(String label) {
        return onToken(false, s -> {
            List<Rec> out = new ArrayList<>();
            for (long h : s.findObjects(withLabel(label))) {
                Attribute[] a = attributes(s, h, CKA.OBJECT_ID, CKA.VALUE);
                if (a != null && a[0].present() && a[1].present()) {
                    Rec r = open(h, label, a[0].value(), a[1].value());
                    if (r != null) {
                        out.add(r);
                    }
                }
            }
            return out;
        });
    }

    /** The highest valid version of each label with {@code prefix}, in label order. */
    private Map<String, Rec> latest(String prefix) {
        Map<String, Rec> m = new TreeMap<>();
        for (Rec r : all(prefix)) {
            m.merge(r.label(), r, (a, b) -> a.version() >= b.version() ? a : b);
        }
        return m;
    }

    private static Rec open(long handle, String label, byte[] seal, byte[] value) {
        if (seal == null || seal.length != 8 + 32 || value == null) {
            return null;
        }
        long version = ByteBuffer.wrap(seal, 0, 8).getLong();
        byte[] expected = sealOf(label, version, value);
        return MessageDigest.isEqual(expected, seal) ? new Rec(handle, label, version, value) : null;
    }

    private static byte[] sealOf(String label, long version, byte[] value) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("hsmkit-quorum-record-v1".getBytes(StandardCharsets.US_ASCII));
            byte[] l = label.getBytes(StandardCharsets.UTF_8);
            md.update(ByteBuffer.allocate(4).putInt(l.length).array());
            md.update(l);
            md.update(ByteBuffer.allocate(8).putLong(version).array());
            md.update(value);
            return ByteBuffer.allocate(8 + 32).putLong(version).put(md.digest()).array();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private long create(String label, long version, byte[] value) {
        Attribute[] b = withLabel(label);
        Attribute[] t = java.util.Arrays.copyOf(b, b.length + 3);
        t[b.length] = Attribute.bool(CKA.PRIVATE, true);
        t[b.length + 1] = Attribute.bytes(CKA.OBJECT_ID, sealOf(label, version, value));
        t[b.length + 2] = Attribute.bytes(CKA.VALUE, value);
        // executeOnObjectSession: one try, never repeated by the pool (a repeat could leave a duplicate).
        return onToken(true, s -> s.createObject(t));
    }

    /** The attributes of an object, or null if it was destroyed (by another thread or process) since it was found. */
    private static Attribute[] attributes(Session s, long handle, long... types) {
        try {
            return s.getAttributes(handle, types);
        } catch (Pkcs11Exception e) {
            if (e.is(CKR.OBJECT_HANDLE_INVALID)) {
                return null;
            }
            throw e;
        }
    }

    private void destroy(long handle) {
        onToken(false, s -> {
            try {
                s.destroyObject(handle);
            } catch (Pkcs11Exception e) {
                if (!e.is(CKR.OBJECT_HANDLE_INVALID)) {   // already gone (a retried call, or another process)
                    throw e;
                }
            }
            return null;
        });
    }

    /** New version first, then the old ones go: a crash in between leaves the new value in force. */
    private void replace(String label, String line) {
        byte[] value = line.getBytes(StandardCharsets.UTF_8);
        locked(() -> {
            List<Rec> old = find(label);
            long version = old.stream().mapToLong(Rec::version).max().orElse(0) + 1;
            create(label, version, value);
            for (Rec r : old) {
                destroy(r.handle());
            }
            return null;
        });
    }

    private int destroyAll(String label) {
        List<Rec> recs = find(label);
        for (Rec r : recs) {
            destroy(r.handle());
        }
        return recs.size();
    }

    /**
     * The cross-process claim: create with a random claim id as version, then look; win only if no other
     * valid record of {@code label} exists, else destroy ours. At most one claimer of a label ever wins.
     */
    private boolean claim(String label, byte[] value) {
        long claimId = random.nextLong() & Long.MAX_VALUE;
        long mine = create(label, claimId, value);
        List<Rec> now = find(label);
        boolean alone = now.stream().allMatch(r -> r.handle() == mine || r.version() == claimId);
        if (!alone) {
            destroy(mine);
        }
        return alone;
    }

    private void pause() {
        try {
            Thread.sleep(1 + random.nextInt(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while appending an audit record", e);
        }
    }

    private interface Body<T> {
        T get();
    }

    /**
     * Every call into the token goes through here, under the JVM-wide lock: SoftHSM2 2.6.1 crashed
     * (SIGSEGV in C_CreateObject) when one thread created a token object while another searched the
     * same token from another session, so the store never lets its own calls overlap.
     */
    private <T, E extends Exception> T onToken(boolean objectSession, io.hsmkit.pkcs11.session.SessionWork<T, E> work) throws E {
        JVM_LOCK.lock();
        try {
            return objectSession ? pool.executeOnObjectSession(work) : pool.execute(work);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    private static <T> T locked(Body<T> body) {
        JVM_LOCK.lock();
        try {
            return body.get();
        } finally {
            JVM_LOCK.unlock();
        }
    }

    private static IllegalStateException corrupt(Rec r) {
        return new IllegalStateException("corrupt record on the token: " + r.label());
    }
}
