package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PolicyAndRegistrationTest {
    Fixture f = new Fixture(new InMemoryQuorumStore());

    @AfterEach
    void auditVerifies() {
        assertThat(f.audit.verify()).isEqualTo(-1);
    }

    private Reason reasonOf(Runnable r) {
        try {
            r.run();
        } catch (QuorumException e) {
            return e.reason();
        }
        throw new AssertionError("not refused");
    }

    @Test
    void valueBelowOne() {
        f.officers("alice", "bob");
        assertThat(reasonOf(() -> f.setValue(Service.KEY_MANAGEMENT, 0))).isEqualTo(Reason.INVALID_VALUE);
        assertThat(QuorumRules.checkValue(Service.TOKEN, -1, 5).allowed()).isFalse();
    }

    @Test
    void valueAboveEight() {
        assertThat(QuorumRules.checkValue(Service.USER, 9, 10).allowed()).isFalse();
        assertThat(QuorumRules.checkValue(Service.USER, 8, 10).allowed()).isTrue();
        f.officers("o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9");
        assertThat(reasonOf(() -> f.setValue(Service.TOKEN, 9))).isEqualTo(Reason.INVALID_VALUE);
    }

    @Test
    void valueAboveOfficerCount() {
        f.officers("alice", "bob");
        assertThatThrownBy(() -> f.setValue(Service.KEY_MANAGEMENT, 3))
                .isInstanceOf(QuorumException.class).hasMessageContaining("outside 1..2");
        f.setValue(Service.KEY_MANAGEMENT, 2);
        assertThat(f.authorizer.policy().value(Service.KEY_MANAGEMENT)).isEqualTo(2);
    }

    @Test
    void loweringUserWithoutQuorumApproval() {
        f.officers("alice", "bob", "carol");
        f.setValue(Service.QUORUM, 2);
        f.setValue(Service.USER, 3, "alice", "bob");
        // No approval at all.
        assertThat(reasonOf(() -> f.setValue(Service.USER, 1))).isEqualTo(Reason.APPROVAL_REQUIRED);
        // Approved under the user service (by all three user officers) is not a quorum approval.
        Action lower = QuorumAuthorizer.setValueAction(Service.USER, 1);
        Action asUser = Action.of(Service.USER, lower.operation(), lower.arguments());
        ApprovalToken t = f.authorizer.requestToken(asUser, "admin");
        var auth = new QuorumAuthorizer.Authorization(t, f.approvals(t, "alice", "bob", "carol"));
        assertThat(reasonOf(() -> f.authorizer.setValue(Service.USER, 1, auth))).isEqualTo(Reason.SERVICE_MISMATCH);
        // One quorum approval is K-1.
        assertThat(reasonOf(() -> f.setValue(Service.USER, 1, "alice"))).isEqualTo(Reason.INSUFFICIENT_APPROVALS);
        assertThat(f.authorizer.policy().value(Service.USER)).isEqualTo(3);
        f.setValue(Service.USER, 1, "alice", "carol");
        assertThat(f.authorizer.policy().value(Service.USER)).isEqualTo(1);
    }

    @Test
    void raisingUserNeedsQuorumApprovalEvenWhenQuorumIsOff() {
        f.officers("alice", "bob");
        assertThat(reasonOf(() -> f.setValue(Service.USER, 2))).isEqualTo(Reason.APPROVAL_REQUIRED);
        f.setValue(Service.USER, 2, "alice");
        assertThat(f.authorizer.policy().value(Service.USER)).isEqualTo(2);
    }

    @Test
    void deregistrationThatLeavesAValueUnreachableIsRefused() {
        f.officers("alice", "bob", "carol");
        f.setValue(Service.TOKEN, 3);
        assertThat(reasonOf(() -> f.authorizer.deregister("carol", null))).isEqualTo(Reason.UNREACHABLE);
        assertThat(f.authorizer.officers()).containsKey("carol");
        f.setValue(Service.TOKEN, 2);
        f.authorizer.deregister("carol", null);   // user K = 1: quorum off
        assertThat(f.authorizer.officers()).doesNotContainKey("carol");
    }

    @Test
    void registrationWithoutProofOfPossession() {
        KeyPair real = Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA);
        KeyPair other = Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA);
        RegistrationChallenge c = f.authorizer.challenge("alice", real.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        // No proof; a proof by another key; a proof over other bytes.
        assertThat(reasonOf(() -> f.authorizer.register(c, null, null))).isEqualTo(Reason.NO_PROOF_OF_POSSESSION);
        assertThat(reasonOf(() -> f.authorizer.register(c, Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, other, c.toBytes()), null)))
                .isEqualTo(Reason.NO_PROOF_OF_POSSESSION);
        assertThat(reasonOf(() -> f.authorizer.register(c, Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, real, new byte[32]), null)))
                .isEqualTo(Reason.NO_PROOF_OF_POSSESSION);
        // A challenge not issued by this authorizer.
        Fixture other2 = new Fixture(new InMemoryQuorumStore());
        RegistrationChallenge foreign = other2.authorizer.challenge("alice", real.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        assertThat(reasonOf(() -> f.authorizer.register(foreign,
                Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, real, foreign.toBytes()), null))).isEqualTo(Reason.NO_PROOF_OF_POSSESSION);
        assertThat(f.authorizer.officers()).isEmpty();
        f.authorizer.register(c, Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, real, c.toBytes()), null);
        assertThat(f.authorizer.officers()).containsKey("alice");
    }

    @Test
    void registrationOfSecondOfficerIsAQuorumActionOnceUserIsRaised() {
        f.officers("alice", "bob");
        f.setValue(Service.USER, 2, "alice");
        assertThat(reasonOf(() -> f.register("carol", SignatureScheme.ED25519, null))).isEqualTo(Reason.APPROVAL_REQUIRED);
        KeyPair kp = Fixture.keyPair(SignatureScheme.ED25519);
        RegistrationChallenge c = f.authorizer.challenge("carol", kp.getPublic(), SignatureScheme.ED25519);
        f.authorizer.register(c, Fixture.sign(SignatureScheme.ED25519, kp, c.toBytes()),
                f.authorization(QuorumAuthorizer.registrationAction(c.officer()), "admin", "alice", "bob"));
        assertThat(f.authorizer.officers()).containsKey("carol");
    }

    @Test
    void keysOutsideTheAllowedSetAreRefused() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        KeyPair small = rsa.generateKeyPair();
        assertThatThrownBy(() -> f.authorizer.challenge("x", small.getPublic(), SignatureScheme.SHA256_WITH_RSA))
                .hasMessageContaining("at least 2048");
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        assertThatThrownBy(() -> f.authorizer.challenge("x", ec.generateKeyPair().getPublic(), SignatureScheme.SHA256_WITH_ECDSA))
                .hasMessageContaining("P-256");
        KeyPair ed = Fixture.keyPair(SignatureScheme.ED25519);
        assertThatThrownBy(() -> f.authorizer.challenge("x", ed.getPublic(), SignatureScheme.SHA256_WITH_ECDSA))
                .hasMessageContaining("P-256");
    }
}
