package io.hsmkit.quorum;

import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.AuditKind;
import io.hsmkit.quorum.store.QuorumStore;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one gate every guarded administrative action passes. Decisions are made by {@link QuorumRules};
 * this class supplies the clock, the store and the audit log, and consumes tokens atomically.
 *
 * <p>Registration, deregistration and value changes are themselves quorum actions: they take an
 * {@link Authorization} (token plus approvals) for the action they describe, which may be null only
 * where {@link QuorumRules#approvalOptional} allows it (K = 1, quorum off; never for changing
 * {@code user}), and for the very first officer.
 */
public final class QuorumAuthorizer {

    /** A token and its approvals, presented for a guarded change. */
    public record Authorization(ApprovalToken token, List<Approval> approvals) {
        public Authorization {
            Objects.requireNonNull(token, "token");
            approvals = List.copyOf(approvals);
        }
    }

    private final QuorumStore store;
    private final AuditLog audit;
    private final Clock clock;
    private final SecureRandom random;
    private final QuorumWindows windows;
    private final Map<String, RegistrationChallenge> challenges = new ConcurrentHashMap<>();

    public QuorumAuthorizer(QuorumStore store, AuditLog audit, Clock clock, SecureRandom random, QuorumWindows windows) {
        this.store = Objects.requireNonNull(store);
        this.audit = Objects.requireNonNull(audit);
        this.clock = Objects.requireNonNull(clock);
        this.random = Objects.requireNonNull(random);
        this.windows = Objects.requireNonNull(windows);
    }

    public QuorumPolicy policy() {
        return new QuorumPolicy(store.values());
    }

    public Map<String, Officer> officers() {
        return store.officers();
    }

    // ---------------------------------------------------------------- tokens

    /**
     * Creates and records a token for {@code action}.
     * // = issue 5#why (CloudHSM) # one pending token per user and service
     */
    public ApprovalToken requestToken(Action action, String requester) {
        Instant now = clock.instant();
        for (ApprovalToken t : store.pending()) {
            if (t.requester().equals(requester) && t.service() == action.service() && !now.isAfter(t.expires())
                    && !store.isConsumed(t.nonce())) {
                QuorumDecision d = QuorumDecision.refuse(Reason.PENDING_EXISTS, action.service(), action.operation(),
                        requester + " already has pending token " + t.id() + " for " + t.service().wireName()
                                + " until " + t.expires());
                audit.append(AuditKind.REFUSAL, d.message());
                throw new QuorumException(d);
            }
        }
        ApprovalToken token = ApprovalToken.create(action, requester, now, windows.collect(), random);
        store.putPending(token);
        audit.append(AuditKind.REQUEST, "token=" + token.id() + " action=" + action + " requester=" + requester
                + " digest=" + Canonical.hex(token.actionDigest()) + " expires=" + token.expires());
        return token;
    }

    /** Withdraws a pending token (the requester's own, or an expired one) without using it. */
    public void withdraw(ApprovalToken token) {
        store.removePending(token.id());
    }

    /** Stamps an officer's signature with the time it arrived and records it. Verification happens at use. */
    public Approval receiveApproval(ApprovalToken token, String officerId, byte[] signature) {
        Approval a = new Approval(officerId, signature, clock.instant());
        audit.append(AuditKind.APPROVAL, "token=" + token.id() + " officer=" + officerId);
        return a;
    }

    /**
     * Runs the quorum check for {@code action} and, if it passes, consumes the token. Returns normally
     * only when the caller may act, exactly once per token.
     *
     * @throws QuorumException naming what is missing or why the token is refused
     */
    public QuorumDecision authorize(Action action, ApprovalToken token, List<Approval> approvals) {
        QuorumDecision d = QuorumRules.evaluate(action, token, approvals, store.officers(), policy().value(action.service()),
                clock.instant(), windows);
        if (d.allowed()) {
            // = issue 5#what-to-build
            // # it was not used before: it is consumed atomically, so of two concurrent uses exactly one wins.
            // The store persists the nonce before returning true; only then may the action run.
            if (!store.consume(token.nonce())) {
                d = new QuorumDecision(Reason.ALREADY_USED, d.service(), d.operation(), d.required(), d.registered(),
                        d.counted(), d.unregistered(), d.invalid(), d.late(), "token " + token.id() + " was used before");
            }
        }
        if (!d.allowed()) {
            audit.append(AuditKind.REFUSAL, "token=" + token.id() + " " + d.message());
            throw new QuorumException(d);
        }
        store.removePending(token.id());
        audit.append(AuditKind.USE, "token=" + token.id() + " action=" + action + " approvers=" + d.counted()
                + (d.unregistered().isEmpty() ? "" : " ignored=" + d.unregistered()));
        return d;
    }

    /** Guards a change: an approval where one is needed, otherwise none. */
    private void guard(Action action, Authorization auth) {
        if (auth == null) {
            if (QuorumRules.approvalOptional(action, policy())) {
                audit.append(AuditKind.USE, "action=" + action + " (quorum off for " + action.service().wireName() + ")");
                return;
            }
            QuorumPolicy p = policy();
            QuorumDecision d = new QuorumDecision(Reason.APPROVAL_REQUIRED, action.service(), action.operation(),
                    p.value(action.service()), store.officers().size(), List.of(), List.of(), List.of(), List.of(),
                    "no approval token presented");
            audit.append(AuditKind.REFUSAL, d.message());
            throw new QuorumException(d);
        }
        authorize(action, auth.token(), auth.approvals());
    }

    private void refuse(QuorumDecision d) {
        audit.append(AuditKind.REFUSAL, d.message());
        throw new QuorumException(d);
    }

    // ---------------------------------------------------------------- officers

    /** A fresh challenge the prospective officer must sign with the private key of {@code key}. */
    public RegistrationChallenge challenge(String officerId, PublicKey key, SignatureScheme scheme) {
        RegistrationChallenge c = RegistrationChallenge.issue(officerId, key, scheme, clock.instant(), random);
        challenges.put(c.id(), c);
        return c;
    }

    /** The action a registration is approved as. */
    public static Action registrationAction(Officer o) {
        return Action.of(Service.USER, "register-officer",
                Map.of("officer", o.id(), "scheme", o.scheme().jcaName(), "key-sha256", o.keyFingerprint()));
    }

    public static Action deregistrationAction(String officerId) {
        return Action.of(Service.USER, "deregister-officer", Map.of("officer", officerId));
    }

    public static Action setValueAction(Service service, int k) {
        return Action.of(Service.QUORUM, "set-value", Map.of("service", service.wireName(), "value", Integer.toString(k)));
    }

    /**
     * Registers the officer of {@code challenge} if {@code proof} is their signature over it.
     * // = issue 5#what-to-build
     * // # registered with a public key ..., with proof of possession: the officer signs a registration challenge.
     */
    public Officer register(RegistrationChallenge challenge, byte[] proof, Authorization auth) {
        Officer o = challenge.officer();
        RegistrationChallenge issued = challenges.get(challenge.id());
        Action action = registrationAction(o);
        if (issued == null || issued != challenge) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    "challenge for " + o.id() + " was not issued here or was used"));
        }
        if (clock.instant().isAfter(challenge.issued().plus(windows.collect()))) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    "challenge for " + o.id() + " expired"));
        }
        if (proof == null || !o.scheme().verify(o.publicKey(), challenge.toBytes(), proof)) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    o.id() + " did not sign the registration challenge with the key being registered (" + o.scheme().jcaName() + ")"));
        }
        synchronized (this) {
            if (store.officers().containsKey(o.id())) {
                refuse(QuorumDecision.refuse(Reason.INVALID_VALUE, Service.USER, action.operation(),
                        "officer " + o.id() + " is already registered; rotation is a deregistration plus a registration"));
            }
            // The first officer has nobody to approve them.
            if (!store.officers().isEmpty()) {
                guard(action, auth);
            }
            challenges.remove(challenge.id());
            store.putOfficer(o);
        }
        audit.append(AuditKind.USE, "registered officer=" + o.id() + " scheme=" + o.scheme().jcaName() + " key-sha256=" + o.keyFingerprint());
        return o;
    }

    public synchronized void deregister(String officerId, Authorization auth) {
        Map<String, Officer> officers = store.officers();
        Action action = deregistrationAction(officerId);
        if (!officers.containsKey(officerId)) {
            refuse(QuorumDecision.refuse(Reason.UNKNOWN_OFFICER, Service.USER, action.operation(), "no officer " + officerId));
        }
        QuorumDecision reach = QuorumRules.checkReachable(policy(), officers.size() - 1, action.operation());
        if (!reach.allowed()) {
            refuse(reach);
        }
        guard(action, auth);
        store.removeOfficer(officerId);
        audit.append(AuditKind.USE, "deregistered officer=" + officerId);
    }

    /**
     * Sets the quorum value of {@code service}.
     * // = issue 5#what-to-build
     * // # raising or lowering `user` needs a `quorum` approval, so `quorum` is raised first
     * (every value change is a {@code quorum/set-value} action; see {@link QuorumRules#approvalOptional})
     */
    public synchronized void setValue(Service service, int k, Authorization auth) {
        QuorumDecision v = QuorumRules.checkValue(service, k, store.officers().size());
        if (!v.allowed()) {
            refuse(v);
        }
        guard(setValueAction(service, k), auth);
        store.setValue(service, k);
        audit.append(AuditKind.USE, "set value " + service.wireName() + "=" + k);
    }
}
