package io.hsmkit.quorum;

import java.time.Instant;
import java.util.Objects;

/**
 * One officer's signature over {@link ApprovalToken#toBytes()}, with the time the system received it
 * (the signature itself carries no trustworthy time). Immutable: the signature is copied in and out.
 */
public final class Approval {
    private final String officerId;
    private final byte[] signature;
    private final Instant receivedAt;

    public Approval(String officerId, byte[] signature, Instant receivedAt) {
        this.officerId = Objects.requireNonNull(officerId, "officerId");
        this.signature = Objects.requireNonNull(signature, "signature").clone();
        this.receivedAt = Objects.requireNonNull(receivedAt, "receivedAt");
    }

    public String officerId() {
        return officerId;
    }

    public byte[] signature() {
        return signature.clone();
    }

    public Instant receivedAt() {
        return receivedAt;
    }

    @Override
    public String toString() {
        return "Approval[" + officerId + " at " + receivedAt + "]";
    }
}
