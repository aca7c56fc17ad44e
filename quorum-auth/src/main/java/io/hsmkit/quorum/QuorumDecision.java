package io.hsmkit.quorum;

import java.util.List;

/**
 * The outcome of checking one token and its approvals against one action. Immutable.
 *
 * @param reason       {@link Reason#ALLOWED} or why not
 * @param counted      distinct registered officers whose signature verified, in approval order
 * @param unregistered signer ids that are not registered officers (ignored)
 * @param invalid      registered officers whose signature did not verify in their registered scheme
 * @param late         registered officers whose approval arrived after the token expired
 */
public record QuorumDecision(Reason reason, Service service, String operation, int required, int registered,
        List<String> counted, List<String> unregistered, List<String> invalid, List<String> late, String detail) {

    public enum Reason {
        ALLOWED,
        /** The token's service is not the action's service. */
        SERVICE_MISMATCH,
        /** The token's digest is not the digest of the action being run. */
        ACTION_MISMATCH,
        /** Fewer than K distinct valid approvals and the collect window is still open. */
        INSUFFICIENT_APPROVALS,
        /** The collect window closed before K approvals arrived. */
        TOKEN_EXPIRED,
        /** K approvals arrived but the use window after the K-th has passed. */
        APPROVAL_EXPIRED,
        /** The token was consumed before. */
        ALREADY_USED,
        /** A quorum value outside 1..min(8, officers). */
        INVALID_VALUE,
        /** A change that would leave some quorum value above the number of officers. */
        UNREACHABLE,
        /** A registration whose proof of possession does not verify, or whose challenge was not issued here. */
        NO_PROOF_OF_POSSESSION,
        /** A guarded change attempted without the approval it needs. */
        APPROVAL_REQUIRED,
        /** A second pending token for the same requester and service. */
        PENDING_EXISTS,
        /** No such officer. */
        UNKNOWN_OFFICER,
        /** The token was created before the prune floor: its use may have been forgotten, so it is refused. */
        BEFORE_FLOOR
    }

    public QuorumDecision {
        counted = List.copyOf(counted);
        unregistered = List.copyOf(unregistered);
        invalid = List.copyOf(invalid);
        late = List.copyOf(late);
    }

    static QuorumDecision refuse(Reason reason, Service service, String operation, String detail) {
        return new QuorumDecision(reason, service, operation, 0, 0, List.of(), List.of(), List.of(), List.of(), detail);
    }

    public boolean allowed() {
        return reason == Reason.ALLOWED;
    }

    /** Missing approvals, 0 when K were counted. */
    public int missing() {
        return Math.max(0, required - counted.size());
    }

    /** E.g. {@code 2 of 3 approvals for user/create-user: have 1 (alice); missing 1}, plus the reason when it is not the count. */
    public String message() {
        StringBuilder sb = new StringBuilder();
        String what = (service == null ? "?" : service.wireName()) + "/" + operation;
        if (required > 0) {
            sb.append(required).append(" of ").append(registered).append(" approvals for ").append(what)
                    .append(": have ").append(counted.size());
            if (!counted.isEmpty()) {
                sb.append(" (").append(String.join(", ", counted)).append(')');
            }
            sb.append("; missing ").append(missing());
        } else {
            sb.append(what);
        }
        if (!unregistered.isEmpty()) {
            sb.append("; ignored unregistered signer(s): ").append(String.join(", ", unregistered));
        }
        if (!invalid.isEmpty()) {
            sb.append("; invalid signature(s) from: ").append(String.join(", ", invalid));
        }
        if (!late.isEmpty()) {
            sb.append("; approval(s) after expiry from: ").append(String.join(", ", late));
        }
        if (reason != Reason.ALLOWED && reason != Reason.INSUFFICIENT_APPROVALS) {
            sb.append("; refused: ").append(reason);
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append(" (").append(detail).append(')');
        }
        return sb.toString();
    }
}
