package io.hsmkit.quorum;

import io.hsmkit.quorum.store.QuorumStore;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Officers with keys, a settable clock and an authorizer over a given store. */
final class Fixture {
    static final byte[] AUDIT_KEY = "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final SecureRandom random = new SecureRandom();
    final QuorumStore store;
    final AuditLog audit;
    final QuorumAuthorizer authorizer;
    final Map<String, KeyPair> keys = new HashMap<>();
    final Map<String, SignatureScheme> schemes = new HashMap<>();

    Fixture(QuorumStore store) {
        this.store = store;
        this.audit = new AuditLog(store, AUDIT_KEY, clock);
        this.authorizer = new QuorumAuthorizer(store, audit, clock, random, QuorumWindows.CLOUDHSM);
    }

    /** A fixture over the same store and keys, as after a process restart. */
    Fixture reopen(QuorumStore reopened) {
        Fixture f = new Fixture(reopened);
        f.keys.putAll(keys);
        f.schemes.putAll(schemes);
        f.clock.now = clock.now;
        return f;
    }

    static KeyPair keyPair(SignatureScheme scheme) {
        try {
            switch (scheme) {
                case SHA256_WITH_ECDSA -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec("secp256r1"));
                    return g.generateKeyPair();
                }
                case SHA256_WITH_RSA, RSASSA_PSS -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048);
                    return g.generateKeyPair();
                }
                default -> {
                    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                }
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Registers officers while user K = 1 (no approval needed), each with proof of possession. */
    Fixture officers(String... ids) {
        for (String id : ids) {
            register(id, SignatureScheme.SHA256_WITH_ECDSA, null);
        }
        return this;
    }

    Officer register(String id, SignatureScheme scheme, QuorumAuthorizer.Authorization auth) {
        KeyPair kp = keys.computeIfAbsent(id, x -> keyPair(scheme));
        schemes.put(id, scheme);
        RegistrationChallenge c = authorizer.challenge(id, kp.getPublic(), scheme);
        return authorizer.register(c, sign(scheme, kp, c.toBytes()), auth);
    }

    static byte[] sign(SignatureScheme scheme, KeyPair kp, byte[] data) {
        try {
            return scheme.sign(kp.getPrivate(), data);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] signature(ApprovalToken token, String officer) {
        return sign(schemes.get(officer), keys.get(officer), token.toBytes());
    }

    Approval approve(ApprovalToken token, String officer) {
        return authorizer.receiveApproval(token, officer, signature(token, officer));
    }

    List<Approval> approvals(ApprovalToken token, String... officers) {
        List<Approval> out = new ArrayList<>();
        for (String o : officers) {
            out.add(approve(token, o));
        }
        return out;
    }

    /** A full authorization for a guarded change, approved by {@code officers}. */
    QuorumAuthorizer.Authorization authorization(Action action, String requester, String... officers) {
        ApprovalToken t = authorizer.requestToken(action, requester);
        return new QuorumAuthorizer.Authorization(t, approvals(t, officers));
    }

    void setValue(Service s, int k, String... approvers) {
        Action a = QuorumAuthorizer.setValueAction(s, k);
        QuorumAuthorizer.Authorization auth = approvers.length == 0 ? null : authorization(a, "admin", approvers);
        try {
            authorizer.setValue(s, k, auth);
        } catch (QuorumException e) {
            if (auth != null) {
                authorizer.withdraw(auth.token());  // the requester withdraws the failed token
            }
            throw e;
        }
    }
}
