package io.hsmkit.quorum;

import java.util.Objects;

/** An action refused for want of its quorum, or a quorum change refused; the message names what is missing. */
public final class QuorumException extends SecurityException {
    private static final long serialVersionUID = 1L;

    private final transient QuorumDecision decision;

    public QuorumException(QuorumDecision decision) {
        super(decision.message());
        this.decision = Objects.requireNonNull(decision);
    }

    public QuorumDecision decision() {
        return decision;
    }

    public QuorumDecision.Reason reason() {
        return decision.reason();
    }
}
