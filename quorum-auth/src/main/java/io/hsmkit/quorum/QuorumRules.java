package io.hsmkit.quorum;

import io.hsmkit.quorum.QuorumDecision.Reason;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The quorum decisions as pure static functions: no clock, no store, no randomness, so each rule can be
 * tested on its own. Each check is preceded by the requirement of issue 5 it enforces.
 */
public final class QuorumRules {
    private QuorumRules() {}

    /**
     * Checks {@code approvals} of {@code token} for running {@code action} at {@code now}. Does not consume
     * the token: the caller does that atomically after an {@link Reason#ALLOWED} decision.
     *
     * @param officers the registered officers by id
     * @param k        the quorum value of the action's service
     */
    public static QuorumDecision evaluate(Action action, ApprovalToken token, List<Approval> approvals,
            Map<String, Officer> officers, int k, Instant now, QuorumWindows windows) {
        Service service = action.service();
        String op = action.operation();

        // = issue 5#what-to-build
        // # its digest equals the digest of the action being run
        // (the service is part of the digest; checked first for a clearer message)
        if (token.service() != service) {
            return QuorumDecision.refuse(Reason.SERVICE_MISMATCH, service, op,
                    "token is for service " + token.service().wireName() + ", action is " + service.wireName());
        }
        if (!MessageDigest.isEqual(token.actionDigest(), action.digest())) {
            return QuorumDecision.refuse(Reason.ACTION_MISMATCH, service, op,
                    "token approves " + token.service().wireName() + "/" + token.operation() + " with digest "
                            + Canonical.hex(token.actionDigest()) + ", action " + action + " has digest " + Canonical.hex(action.digest()));
        }

        byte[] signed = token.toBytes();
        Map<String, Instant> counted = new LinkedHashMap<>();
        List<String> unregistered = new ArrayList<>();
        List<String> invalid = new ArrayList<>();
        List<String> late = new ArrayList<>();
        for (Approval a : approvals) {
            Officer officer = officers.get(a.officerId());
            // # The action runs only when K distinct registered officers' valid signatures are present
            // An unregistered (or removed) signer is ignored and reported.
            if (officer == null) {
                addOnce(unregistered, a.officerId());
                continue;
            }
            // # ... valid signatures: verified only in the scheme fixed at registration.
            if (!officer.scheme().verify(officer.publicKey(), signed, a.signature())) {
                addOnce(invalid, officer.id());
                continue;
            }
            // # 600 s to collect approvals: an approval received after expiry does not count.
            if (a.receivedAt().isAfter(token.expires()) || a.receivedAt().isBefore(token.created())) {
                addOnce(late, officer.id());
                continue;
            }
            // # K distinct ... officers: a second signature by the same officer counts once (the earliest).
            counted.merge(officer.id(), a.receivedAt(), (x, y) -> x.isBefore(y) ? x : y);
        }
        invalid.removeAll(counted.keySet());
        late.removeAll(counted.keySet());
        List<String> ids = List.copyOf(counted.keySet());

        if (counted.size() < k) {
            // # the token is unexpired (collect window)
            boolean expired = now.isAfter(token.expires());
            return new QuorumDecision(expired ? Reason.TOKEN_EXPIRED : Reason.INSUFFICIENT_APPROVALS, service, op, k,
                    officers.size(), ids, unregistered, invalid, late,
                    expired ? "token expired at " + token.expires() + " before its quorum" : "");
        }
        // # 600 s to use them: measured from the K-th approval, when the quorum was reached.
        Instant reached = counted.values().stream().sorted().skip(k - 1L).findFirst().orElseThrow();
        Instant useBy = reached.plus(windows.use());
        if (now.isAfter(useBy)) {
            return new QuorumDecision(Reason.APPROVAL_EXPIRED, service, op, k, officers.size(), ids, unregistered, invalid,
                    late, "quorum reached at " + reached + ", usable until " + useBy);
        }
        return new QuorumDecision(Reason.ALLOWED, service, op, k, officers.size(), ids, unregistered, invalid, late, "");
    }

    /**
     * Checks a new quorum value.
     * // = issue 5#what-to-build
     * // # Each value K is between 1 (off) and the number of registered officers, at most 8 as in CloudHSM
     */
    public static QuorumDecision checkValue(Service service, int k, int registeredOfficers) {
        int max = Math.min(QuorumPolicy.MAX_VALUE, registeredOfficers);
        if (k < 1 || k > max) {
            return QuorumDecision.refuse(Reason.INVALID_VALUE, Service.QUORUM, "set-value",
                    "value " + k + " for " + service.wireName() + " is outside 1.." + max + " (" + registeredOfficers
                            + " registered officers, at most " + QuorumPolicy.MAX_VALUE + ")");
        }
        return allowed(Service.QUORUM, "set-value");
    }

    /**
     * Checks that every value stays reachable with {@code officersAfter} officers.
     * // = issue 5#what-to-build
     * // # a deregistration that would leave a value unreachable is refused
     */
    public static QuorumDecision checkReachable(QuorumPolicy policy, int officersAfter, String operation) {
        for (Map.Entry<Service, Integer> e : policy.values().entrySet()) {
            if (e.getValue() > officersAfter) {
                return QuorumDecision.refuse(Reason.UNREACHABLE, Service.USER, operation,
                        e.getKey().wireName() + " needs " + e.getValue() + " officers, " + officersAfter + " would remain");
            }
        }
        return allowed(Service.USER, operation);
    }

    /**
     * Whether a guarded change may proceed with no approval at all.
     * // = issue 5#what-to-build
     * // # K is between 1 (off) ...: K = 1 means the authenticated officer's own request suffices,
     * // # except that raising or lowering `user` needs a `quorum` approval, always.
     */
    public static boolean approvalOptional(Action action, QuorumPolicy policy) {
        if (action.service() == Service.QUORUM && Service.USER.wireName().equals(action.arguments().get("service"))) {
            return false;
        }
        return policy.value(action.service()) == 1;
    }

    private static QuorumDecision allowed(Service service, String operation) {
        return QuorumDecision.refuse(Reason.ALLOWED, service, operation, "");
    }

    private static void addOnce(List<String> list, String id) {
        if (!list.contains(id)) {
            list.add(id);
        }
    }
}
