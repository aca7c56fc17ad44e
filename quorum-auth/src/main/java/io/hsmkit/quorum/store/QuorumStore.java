package io.hsmkit.quorum.store;

import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.Service;
import java.util.List;
import java.util.Map;

/**
 * Where quorum state lives: registered officers, quorum values, consumed and pending tokens, and the
 * audit chain. The default for production will keep these as token data objects on the HSM; this
 * module ships an in-memory and a crash-safe file implementation.
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
     * @return true if this call consumed it, false if it was already consumed
     */
    boolean consume(byte[] nonce);

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

    @Override
    void close();
}
