package io.hsmkit.quorum.store;

import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.Service;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Where quorum state lives: registered officers, quorum values, consumed and pending tokens, and the
 * audit chain, and small named records. {@link TokenQuorumStore} keeps them as token data objects on
 * the HSM (the default of the {@code hsmkit} command); {@link FileQuorumStore} in a directory and
 * {@link InMemoryQuorumStore} in memory.
 *
 * <p>Contract: every mutating method is durable when it returns. {@link #consume(byte[])} is atomic:
 * of any number of concurrent calls with one nonce (threads or, for the file store, processes) exactly
 * one returns {@code true}, and the nonce is persisted before it does, so the action it authorises can
 * never run twice, even across a crash.
 */
public interface QuorumStore extends AutoCloseable {

    /** Registered officers by id (a snapshot). */
    Map<String, Officer> officers();

    void putOfficer(Officer officer);

    /** @return false if no such officer was registered */
    boolean removeOfficer(String id);

    /** Quorum values; a service absent from the map has value 1. A snapshot. */
    Map<Service, Integer> values();

    void setValue(Service service, int k);

    /**
     * Marks a token nonce used. Atomic and durable before it returns.
     *
     * @param created the token's creation time: {@link #pruneConsumed} drops the record once the
     *                authorizer's floor refuses tokens that old; {@link Instant#MAX} keeps it forever
     * @return true if this call consumed it, false if it was already consumed
     */
    boolean consume(byte[] nonce, Instant created);

    /** {@link #consume(byte[], Instant)} of a nonce that is never pruned. */
    default boolean consume(byte[] nonce) {
        return consume(nonce, Instant.MAX);
    }

    /**
     * Forgets consumed nonces of tokens created before {@code floor}. Only safe once every token created
     * before {@code floor} is refused on other grounds (the authorizer's durable floor, see
     * {@code QuorumAuthorizer.prune}).
     *
     * @return how many were removed
     */
    int pruneConsumed(Instant floor);

    boolean isConsumed(byte[] nonce);

    /** Tokens requested and not yet used or withdrawn. */
    List<ApprovalToken> pending();

    void putPending(ApprovalToken token);

    void removePending(String tokenId);

    /**
     * Appends one audit record atomically: {@code next} receives the current last record (null for an
     * empty log) and returns the record to append, all under the store's lock, so two writers never
     * chain to the same predecessor.
     */
    AuditRecord appendAudit(java.util.function.Function<AuditRecord, AuditRecord> next);

    /** The whole audit chain, in order. */
    List<AuditRecord> audit();

    /**
     * Small named records of one kind, as a snapshot {@code key -> value}: approvals received,
     * registration challenges issued, the audit checkpoint, the prune floor. {@code kind} matches
     * {@code [a-z-]+}, keys {@code [A-Za-z0-9._@-]+}, values are one line.
     */
    Map<String, String> records(String kind);

    /** Creates or replaces one record; durable when it returns. */
    void putRecord(String kind, String key, String value);

    /** @return false if there was no such record */
    boolean removeRecord(String kind, String key);

    /** Checks the record naming rules of {@link #records(String)}. */
    static void checkRecord(String kind, String key, String value) {
        if (!kind.matches("[a-z-]+") || !key.matches("[A-Za-z0-9._@-]+")) {
            throw new IllegalArgumentException("bad record name " + kind + "/" + key);
        }
        if (value != null && (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0)) {
            throw new IllegalArgumentException("a record value is one line");
        }
    }

    @Override
    void close();
}
