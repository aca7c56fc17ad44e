package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QuorumAuthorizerTest {
    static final Action CREATE_BOB = Action.of(Service.USER, "create-user", Map.of("name", "bob", "role", "crypto-user"));
    static final Action DELETE_ALICE = Action.of(Service.USER, "delete-user", Map.of("name", "alice"));

    Fixture f;

    @BeforeEach
    void setUp() {
        f = new Fixture(new InMemoryQuorumStore()).officers("alice", "bob", "carol");
        f.setValue(Service.QUORUM, 2);                      // quorum K=1: the request itself suffices
        f.setValue(Service.USER, 2, "alice", "bob");        // user always needs a quorum approval
        assertThat(f.authorizer.policy().value(Service.USER)).isEqualTo(2);
    }

    @AfterEach
    void auditStillVerifies() {
        // = issue 5 # The audit log verifies after all of the above
        assertThat(f.audit.verify()).isEqualTo(-1);
        assertThat(f.audit.records()).isNotEmpty();
    }

    private ApprovalToken token(Action a) {
        return f.authorizer.requestToken(a, "requester");
    }

    private Reason refusal(Action a, ApprovalToken t, List<Approval> approvals) {
        try {
            f.authorizer.authorize(a, t, approvals);
        } catch (QuorumException e) {
            return e.reason();
        }
        throw new AssertionError("authorized");
    }

    @Test
    void kApprovalsAuthorizeOnce() {
        ApprovalToken t = token(CREATE_BOB);
        QuorumDecision d = f.authorizer.authorize(CREATE_BOB, t, f.approvals(t, "alice", "carol"));
        assertThat(d.allowed()).isTrue();
        assertThat(d.counted()).containsExactly("alice", "carol");
    }

    @Test
    void replayOfConsumedTokenIsRefused() {
        ApprovalToken t = token(CREATE_BOB);
        List<Approval> approvals = f.approvals(t, "alice", "bob");
        f.authorizer.authorize(CREATE_BOB, t, approvals);
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals))
                .isInstanceOf(QuorumException.class).hasMessageContaining("ALREADY_USED");
    }

    @Test
    void kMinusOneApprovalsNameWhatIsMissing() {
        ApprovalToken t = token(CREATE_BOB);
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, f.approvals(t, "alice")))
                .isInstanceOf(QuorumException.class)
                .hasMessageStartingWith("2 of 3 approvals for user/create-user: have 1 (alice); missing 1");
    }

    @Test
    void sameOfficerTwiceCountsOnce() {
        ApprovalToken t = token(CREATE_BOB);
        // Two different ECDSA signatures by the same key (ECDSA is randomised), and the same one again.
        List<Approval> approvals = f.approvals(t, "alice", "alice");
        approvals.add(approvals.get(0));
        assertThat(approvals.get(0).signature()).isNotEqualTo(approvals.get(1).signature());
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals))
                .hasMessageStartingWith("2 of 3 approvals for user/create-user: have 1 (alice); missing 1");
    }

    @Test
    void unregisteredSignerIsIgnoredAndReported() {
        ApprovalToken t = token(CREATE_BOB);
        KeyPair mallory = Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA);
        List<Approval> approvals = f.approvals(t, "alice");
        approvals.add(f.authorizer.receiveApproval(t, "mallory",
                Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, mallory, t.toBytes())));
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals))
                .hasMessageContaining("missing 1").hasMessageContaining("ignored unregistered signer(s): mallory");
        // With K met, the unregistered signer is still reported in the decision.
        approvals.add(f.approve(t, "bob"));
        QuorumDecision d = f.authorizer.authorize(CREATE_BOB, t, approvals);
        assertThat(d.unregistered()).containsExactly("mallory");
        assertThat(d.counted()).containsExactly("alice", "bob");
    }

    @Test
    void signerWhoseKeyWasRemovedDoesNotCount() {
        ApprovalToken t = token(CREATE_BOB);
        List<Approval> approvals = f.approvals(t, "alice", "carol");
        f.setValue(Service.USER, 2, "alice", "bob"); // no-op change, shows quorum changes still work
        f.authorizer.deregister("carol", f.authorization(QuorumAuthorizer.deregistrationAction("carol"), "admin", "alice", "bob"));
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals))
                .hasMessageContaining("have 1 (alice)").hasMessageContaining("ignored unregistered signer(s): carol");
    }

    @Test
    void signerWhoseKeyWasRotatedDoesNotCountWithTheOldKey() {
        ApprovalToken t = token(CREATE_BOB);
        List<Approval> approvals = f.approvals(t, "alice", "carol");  // carol signs with her old key
        f.authorizer.deregister("carol", f.authorization(QuorumAuthorizer.deregistrationAction("carol"), "admin", "alice", "bob"));
        KeyPair newKey = Fixture.keyPair(SignatureScheme.ED25519);
        RegistrationChallenge c = f.authorizer.challenge("carol", newKey.getPublic(), SignatureScheme.ED25519);
        f.authorizer.register(c, Fixture.sign(SignatureScheme.ED25519, newKey, c.toBytes()),
                f.authorization(QuorumAuthorizer.registrationAction(c.officer()), "admin", "alice", "bob"));
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals))
                .hasMessageContaining("have 1 (alice)").hasMessageContaining("invalid signature(s) from: carol");
        // Her new key works.
        approvals.add(f.authorizer.receiveApproval(t, "carol", Fixture.sign(SignatureScheme.ED25519, newKey, t.toBytes())));
        assertThat(f.authorizer.authorize(CREATE_BOB, t, approvals).counted()).containsExactly("alice", "carol");
    }

    @Test
    void expiryBeforeApproval() {
        ApprovalToken t = token(CREATE_BOB);
        Approval alice = f.approve(t, "alice");
        f.clock.advance(Duration.ofSeconds(601));
        Approval bob = f.approve(t, "bob");  // arrives after the 600 s collect window
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, List.of(alice, bob)))
                .isInstanceOf(QuorumException.class).hasMessageContaining("TOKEN_EXPIRED")
                .hasMessageContaining("approval(s) after expiry from: bob");
    }

    @Test
    void expiryAfterApproval() {
        ApprovalToken t = token(CREATE_BOB);
        f.clock.advance(Duration.ofSeconds(500));
        List<Approval> approvals = f.approvals(t, "alice", "bob");  // quorum reached at 500 s
        f.clock.advance(Duration.ofSeconds(600));                    // still usable at exactly 600 s after
        f.clock.advance(Duration.ofSeconds(1));
        assertThat(refusal(CREATE_BOB, t, approvals)).isEqualTo(Reason.APPROVAL_EXPIRED);
    }

    @Test
    void usableWithinTheUseWindowAfterTheCollectWindow() {
        ApprovalToken t = token(CREATE_BOB);
        f.clock.advance(Duration.ofSeconds(590));
        List<Approval> approvals = f.approvals(t, "alice", "bob");
        f.clock.advance(Duration.ofSeconds(300));  // token created 890 s ago, approved 300 s ago
        assertThat(f.authorizer.authorize(CREATE_BOB, t, approvals).allowed()).isTrue();
    }

    @Test
    void createBobTokenUsedForDeleteAlice() {
        ApprovalToken t = token(CREATE_BOB);
        assertThat(refusal(DELETE_ALICE, t, f.approvals(t, "alice", "bob"))).isEqualTo(Reason.ACTION_MISMATCH);
        // An argument changed is a different action too.
        Action createEve = Action.of(Service.USER, "create-user", Map.of("name", "eve", "role", "crypto-user"));
        assertThat(refusal(createEve, t, f.approvals(t, "alice", "bob"))).isEqualTo(Reason.ACTION_MISMATCH);
    }

    @Test
    void tokenForOneServiceUsedForAnother() {
        Action deleteKey = Action.of(Service.KEY_MANAGEMENT, "delete-key", Map.of("label", "k1"));
        ApprovalToken t = token(deleteKey);
        Action asUser = Action.of(Service.USER, "delete-key", Map.of("label", "k1"));
        assertThat(refusal(asUser, t, f.approvals(t, "alice", "bob"))).isEqualTo(Reason.SERVICE_MISMATCH);
    }

    @Test
    void oneBitFlippedInNonceTimeOrDigestInvalidatesSignatures() {
        ApprovalToken t = token(CREATE_BOB);
        List<Approval> approvals = f.approvals(t, "alice", "bob");
        byte[] bytes = t.toBytes();
        int len = bytes.length;
        // Layout from the end: created(8) expires(8); before them nonce(16); digest right after the magic.
        int digestAt = 4 + ApprovalToken.MAGIC.length() + 4;
        int nonceAt = len - 16 - 16;
        int createdAt = len - 16 + 7;
        int expiresAt = len - 8 + 7;
        for (int at : new int[] {digestAt, nonceAt, createdAt, expiresAt}) {
            byte[] flipped = bytes.clone();
            flipped[at] ^= 1;
            ApprovalToken bad = ApprovalToken.fromBytes(flipped);
            Reason r = refusal(CREATE_BOB, bad, approvals);
            assertThat(r).as("bit flipped at %d", at).isIn(Reason.INSUFFICIENT_APPROVALS, Reason.ACTION_MISMATCH);
            if (at != digestAt) {
                assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, bad, approvals))
                        .hasMessageContaining("have 0").hasMessageContaining("invalid signature(s) from: alice, bob");
            }
        }
        assertThat(f.authorizer.authorize(CREATE_BOB, t, approvals).allowed()).isTrue();
    }

    @Test
    void signatureInSchemeTheOfficerDidNotRegister() {
        Fixture g = new Fixture(new InMemoryQuorumStore());
        g.register("dora", SignatureScheme.RSASSA_PSS, null);
        g.register("erin", SignatureScheme.SHA256_WITH_RSA, null);
        ApprovalToken t = g.authorizer.requestToken(CREATE_BOB, "r");
        // dora registered PSS but signs PKCS#1 v1.5 with the same key; erin the other way round.
        Approval dora = g.authorizer.receiveApproval(t, "dora",
                Fixture.sign(SignatureScheme.SHA256_WITH_RSA, g.keys.get("dora"), t.toBytes()));
        Approval erin = g.authorizer.receiveApproval(t, "erin",
                Fixture.sign(SignatureScheme.RSASSA_PSS, g.keys.get("erin"), t.toBytes()));
        assertThatThrownBy(() -> g.authorizer.authorize(CREATE_BOB, t, List.of(dora, erin)))
                .hasMessageContaining("have 0").hasMessageContaining("invalid signature(s) from: dora, erin");
        assertThat(g.authorizer.authorize(CREATE_BOB, t, List.of(g.approve(t, "dora"))).allowed()).isTrue();
        assertThat(g.audit.verify()).isEqualTo(-1);
    }

    @Test
    void twoThreadsSpendingOneTokenExactlyOneWins() throws Exception {
        for (int round = 0; round < 20; round++) {
            ApprovalToken t = token(Action.of(Service.USER, "create-user", Map.of("name", "u" + round)));
            Action a = Action.of(Service.USER, "create-user", Map.of("name", "u" + round));
            List<Approval> approvals = f.approvals(t, "alice", "bob");
            ExecutorService pool = Executors.newFixedThreadPool(2);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        f.authorizer.authorize(a, t, approvals);
                        return true;
                    } catch (QuorumException e) {
                        assertThat(e.reason()).isEqualTo(Reason.ALREADY_USED);
                        return false;
                    }
                }));
            }
            start.countDown();
            int wins = 0;
            for (Future<Boolean> r : results) {
                wins += r.get() ? 1 : 0;
            }
            pool.shutdown();
            assertThat(wins).as("round %d", round).isEqualTo(1);
        }
    }

    @Test
    void onePendingTokenPerRequesterAndService() {
        token(CREATE_BOB);
        assertThatThrownBy(() -> token(DELETE_ALICE)).isInstanceOf(QuorumException.class).hasMessageContaining("PENDING_EXISTS");
        // Another service, or another requester, is fine.
        f.authorizer.requestToken(Action.of(Service.TOKEN, "zeroize"), "requester");
        f.authorizer.requestToken(DELETE_ALICE, "someone-else");
    }
}
