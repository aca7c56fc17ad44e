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

    /** Store record kinds this class keeps. */
    static final String CHALLENGES = "challenge";
    static final String APPROVALS = "approval";
    static final String FLOOR = "floor";
    static final String FLOOR_KEY = "tokens";

    /** What {@link #prune} removed, and the floor it set. */
    public record Pruned(Instant floor, int consumed, int pending, int approvals, int challenges) {}

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

    /**
     * Stamps an officer's signature with the time it arrived and keeps it in the store (so that another
     * process can present it). Verification happens at use.
     */
    public Approval receiveApproval(ApprovalToken token, String officerId, byte[] signature) {
        Approval a = new Approval(officerId, signature, clock.instant());
        String key = token.id() + "." + Canonical.hex(Canonical.sha256(signature)).substring(0, 16);
        store.putRecord(APPROVALS, key, officerId + "\t" + a.receivedAt() + "\t" + java.util.Base64.getEncoder().encodeToString(signature));
        audit.append(AuditKind.APPROVAL, "token=" + token.id() + " officer=" + officerId);
        return a;
    }

    /** The approvals of {@code token} kept by {@link #receiveApproval}, in the order they arrived. */
    public List<Approval> approvals(ApprovalToken token) {
        List<Approval> out = new java.util.ArrayList<>();
        store.records(APPROVALS).forEach((key, value) -> {
            if (key.startsWith(token.id() + ".")) {
                String[] f = value.split("\t", -1);
                if (f.length == 3) {
                    out.add(new Approval(f[0], java.util.Base64.getDecoder().decode(f[2]), Instant.parse(f[1])));
                }
            }
        });
        out.sort(java.util.Comparator.comparing(Approval::receivedAt));
        return out;
    }

    /** Tokens created before this instant are refused (see {@link #prune}); {@link Instant#MIN} before any prune. */
    public Instant floor() {
        String f = store.records(FLOOR).get(FLOOR_KEY);
        return f == null ? Instant.MIN : Instant.ofEpochSecond(Long.parseLong(f));
    }

    /**
     * Forgets spent tokens created before {@code horizon} without enabling their replay: first the floor
     * is raised to {@code horizon} (durably; tokens created before it are refused from then on, whatever
     * the consumed set says), only then are their consumed nonces, expired pending tokens, approvals of
     * tokens no longer pending and expired registration challenges removed.
     * // = issue 5 (trimming): a token created before the prune horizon is refused.
     *
     * @param horizon at most now minus the collect window, so that only expired tokens are concerned;
     *                now minus collect and use windows refuses no token that could still be used
     */
    public synchronized Pruned prune(Instant horizon) {
        Instant now = clock.instant();
        Instant h = horizon.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (h.isAfter(now.minus(windows.collect()))) {
            throw new IllegalArgumentException("prune horizon " + h + " is later than now minus the collect window ("
                    + now.minus(windows.collect()) + "): it would refuse tokens that have not expired");
        }
        Instant floor = floor();
        if (h.isAfter(floor)) {
            store.putRecord(FLOOR, FLOOR_KEY, Long.toString(h.getEpochSecond()));
            floor = h;
        }
        int consumed = store.pruneConsumed(floor);
        int pending = 0;
        java.util.Set<String> live = new java.util.HashSet<>();
        for (ApprovalToken t : store.pending()) {
            if (now.isAfter(t.expires())) {
                store.removePending(t.id());
                pending++;
            } else {
                live.add(t.id());
            }
        }
        int approvals = 0;
        for (String key : store.records(APPROVALS).keySet()) {
            if (!live.contains(key.substring(0, key.indexOf('.')))) {
                store.removeRecord(APPROVALS, key);
                approvals++;
            }
        }
        int challenges = 0;
        for (Map.Entry<String, String> e : store.records(CHALLENGES).entrySet()) {
            RegistrationChallenge c = RegistrationChallenge.fromBytes(java.util.Base64.getDecoder().decode(e.getValue()));
            if (now.isAfter(c.issued().plus(windows.collect()))) {
                store.removeRecord(CHALLENGES, e.getKey());
                challenges++;
            }
        }
        Pruned p = new Pruned(floor, consumed, pending, approvals, challenges);
        audit.append(AuditKind.USE, "pruned floor=" + floor + " consumed=" + consumed + " pending=" + pending
                + " approvals=" + approvals + " challenges=" + challenges);
        return p;
    }

    /**
     * Runs the quorum check for {@code action} and, if it passes, consumes the token. Returns normally
     * only when the caller may act, exactly once per token.
     *
     * @throws QuorumException naming what is missing or why the token is refused
     */
    public QuorumDecision authorize(Action action, ApprovalToken token, List<Approval> approvals) {
        // A token older than the prune floor may have had its consumption record pruned: never trust it.
        if (token.created().isBefore(floor())) {
            QuorumDecision old = QuorumDecision.refuse(Reason.BEFORE_FLOOR, action.service(), action.operation(),
                    "token " + token.id() + " was created at " + token.created() + ", before the prune floor " + floor());
            audit.append(AuditKind.REFUSAL, "token=" + token.id() + " " + old.message());
            throw new QuorumException(old);
        }
        // A used token is named as such even when its approvals were pruned (the atomic consume below decides races).
        if (store.isConsumed(token.nonce())) {
            QuorumDecision used = QuorumDecision.refuse(Reason.ALREADY_USED, action.service(), action.operation(),
                    "token " + token.id() + " was used before");
            audit.append(AuditKind.REFUSAL, "token=" + token.id() + " " + used.message());
            throw new QuorumException(used);
        }
        QuorumDecision d = QuorumRules.evaluate(action, token, approvals, store.officers(), policy().value(action.service()),
                clock.instant(), windows);
        if (d.allowed()) {
            // = issue 5#what-to-build
            // # it was not used before: it is consumed atomically, so of two concurrent uses exactly one wins.
            // The store persists the nonce before returning true; only then may the action run.
            if (!store.consume(token.nonce(), token.created())) {
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

    /**
     * The gate of a guarded action: with {@code auth} null it passes only where no approval is needed
     * (the service's value is 1; never for changing {@code user}); otherwise {@link #authorize} decides
     * and consumes the token. Refusals name the missing approvals.
     *
     * @throws QuorumException when the action may not run
     */
    public void check(Action action, Authorization auth) {
        guard(action, auth);
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

    /**
     * Step 1 of a registration: a fresh challenge the prospective officer must sign with the private key
     * of {@code key}. It is kept in the store as pending (expiring after the collect window), so step 2,
     * {@link #register}, may run in another process.
     */
    public RegistrationChallenge challenge(String officerId, PublicKey key, SignatureScheme scheme) {
        RegistrationChallenge c = RegistrationChallenge.issue(officerId, key, scheme, clock.instant(), random);
        store.putRecord(CHALLENGES, c.id(), java.util.Base64.getEncoder().encodeToString(c.toBytes()));
        audit.append(AuditKind.REQUEST, "challenge=" + c.id() + " officer=" + officerId + " scheme=" + scheme.jcaName()
                + " key-sha256=" + c.officer().keyFingerprint());
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

    /** The action a key rotation is approved as: the officer and the new key. */
    public static Action rotationAction(Officer o) {
        return Action.of(Service.USER, "rotate-officer-key",
                Map.of("officer", o.id(), "scheme", o.scheme().jcaName(), "key-sha256", o.keyFingerprint()));
    }

    /**
     * Registers the officer of {@code challenge} if {@code proof} is their signature over it.
     * // = issue 5#what-to-build
     * // # registered with a public key ..., with proof of possession: the officer signs a registration challenge.
     */
    public Officer register(RegistrationChallenge challenge, byte[] proof, Authorization auth) {
        Officer o = challenge.officer();
        Action action = registrationAction(o);
        checkProof(challenge, proof, action);
        synchronized (this) {
            if (store.officers().containsKey(o.id())) {
                refuse(QuorumDecision.refuse(Reason.INVALID_VALUE, Service.USER, action.operation(),
                        "officer " + o.id() + " is already registered; a new key is a rotation (rotate-officer-key)"));
            }
            spend(challenge, action);
            // The first officer has nobody to approve them.
            if (!store.officers().isEmpty()) {
                guard(action, auth);
            }
            store.putOfficer(o);
        }
        audit.append(AuditKind.USE, "registered officer=" + o.id() + " scheme=" + o.scheme().jcaName() + " key-sha256=" + o.keyFingerprint());
        return o;
    }

    /**
     * Replaces a registered officer's key (and scheme) with the one of {@code challenge}, proven by
     * {@code proof}, the officer's signature of the challenge with the new key.
     * // = issue 5#what-to-build
     * // # Deregistration and key rotation are themselves quorum actions.
     * The store replaces the record in one step: the old key or the new one is in force, never neither;
     * from then on signatures with the old key do not count.
     */
    public Officer rotate(RegistrationChallenge challenge, byte[] proof, Authorization auth) {
        Officer o = challenge.officer();
        Action action = rotationAction(o);
        checkProof(challenge, proof, action);
        Officer old;
        synchronized (this) {
            old = store.officers().get(o.id());
            if (old == null) {
                refuse(QuorumDecision.refuse(Reason.UNKNOWN_OFFICER, Service.USER, action.operation(), "no officer " + o.id()));
            }
            if (old.keyFingerprint().equals(o.keyFingerprint()) && old.scheme() == o.scheme()) {
                refuse(QuorumDecision.refuse(Reason.INVALID_VALUE, Service.USER, action.operation(),
                        "officer " + o.id() + " already has this key"));
            }
            spend(challenge, action);
            guard(action, auth);
            store.putOfficer(o);
        }
        audit.append(AuditKind.USE, "rotated officer=" + o.id() + " from key-sha256=" + old.keyFingerprint() + " to scheme="
                + o.scheme().jcaName() + " key-sha256=" + o.keyFingerprint());
        return o;
    }

    /** The challenge was issued here, has not expired, and {@code proof} is its signature by the key it names. */
    private void checkProof(RegistrationChallenge challenge, byte[] proof, Action action) {
        Officer o = challenge.officer();
        String issued = store.records(CHALLENGES).get(challenge.id());
        if (issued == null || !java.util.Arrays.equals(java.util.Base64.getDecoder().decode(issued), challenge.toBytes())) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    "challenge " + challenge.id() + " for " + o.id() + " was not issued here, or was used"));
        }
        if (clock.instant().isAfter(challenge.issued().plus(windows.collect()))) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    "challenge for " + o.id() + " expired"));
        }
        if (proof == null || !o.scheme().verify(o.publicKey(), challenge.toBytes(), proof)) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    o.id() + " did not sign the registration challenge with the key being registered (" + o.scheme().jcaName() + ")"));
        }
    }

    /** Single use, also across processes: of two step-2 runs with one challenge exactly one goes on. */
    private void spend(RegistrationChallenge challenge, Action action) {
        if (!store.consume(challenge.challenge(), challenge.issued())) {
            refuse(QuorumDecision.refuse(Reason.NO_PROOF_OF_POSSESSION, Service.USER, action.operation(),
                    "challenge " + challenge.id() + " for " + challenge.officer().id() + " was used"));
        }
        store.removeRecord(CHALLENGES, challenge.id());
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
