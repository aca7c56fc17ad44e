package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import io.hsmkit.quorum.store.TokenQuorumStore;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The token store over time: registration challenges that outlive the process that issued them, the
 * audit checkpoint that catches records removed from the end (MACed by the token's own key), and pruning
 * of spent tokens behind a floor that keeps them refused.
 */
class TokenStoreLifecycleTest {
    static final Action DELETE_A = Action.of(Service.KEY_MANAGEMENT, "delete-key", Map.of("alias", "a"));

    static TestToken token;
    TokenStores t;
    Fixture.MutableClock clock = new Fixture.MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));
    QuorumAuthorizer authorizer;
    AuditLog audit;
    Fixture keys;

    @BeforeAll
    static void token() {
        token = TestToken.create("quorum-lifecycle", "quorum-lifecycle");
    }

    @BeforeEach
    void setUp() {
        t = new TokenStores(token.library(), token.label(), token.userPin());
        t.wipe();
        open(t);
        keys = new Fixture(new InMemoryQuorumStore()); // only for its officer keys and signing helpers
    }

    /** An authorizer over {@code stores} whose audit log is MACed by the token's audit key. */
    private void open(TokenStores stores) {
        audit = new AuditLog(stores.store, stores.store.auditMac(), clock);
        authorizer = new QuorumAuthorizer(stores.store, audit, clock, new java.security.SecureRandom(), QuorumWindows.CLOUDHSM);
    }

    /** As after a restart: the module, pool and authorizer closed and opened again. */
    private void reopen() {
        t.close();
        t = new TokenStores(token.library(), token.label(), token.userPin());
        open(t);
    }

    @AfterEach
    void tearDown() {
        t.close();
    }

    private Officer register(String id) {
        KeyPair kp = keys.keys.computeIfAbsent(id, x -> Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA));
        keys.schemes.put(id, SignatureScheme.SHA256_WITH_ECDSA);
        RegistrationChallenge c = authorizer.challenge(id, kp.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        return authorizer.register(c, Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, kp, c.toBytes()), null);
    }

    private Approval approve(ApprovalToken tok, String officer) {
        return authorizer.receiveApproval(tok, officer, keys.signature(tok, officer));
    }

    // ------------------------------------------------------------------ registration in two steps

    @Test
    void aChallengeIssuedBeforeARestartIsAnsweredAfterItOnceOnly() {
        KeyPair kp = Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA);
        byte[] file = authorizer.challenge("alice", kp.getPublic(), SignatureScheme.SHA256_WITH_ECDSA).toBytes();
        byte[] proof = Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, kp, file);
        reopen(); // step 2 in "another process": nothing of step 1 is left in memory
        RegistrationChallenge c = RegistrationChallenge.fromBytes(file);
        assertThat(authorizer.register(c, proof, null).id()).isEqualTo("alice");
        assertThat(authorizer.officers()).containsOnlyKeys("alice");
        reopen();
        assertThatThrownBy(() -> authorizer.register(RegistrationChallenge.fromBytes(file), proof, null))
            .isInstanceOf(QuorumException.class).hasMessageContaining("was not issued here, or was used")
            .extracting(e -> ((QuorumException) e).reason()).isEqualTo(Reason.NO_PROOF_OF_POSSESSION);
    }

    @Test
    void unknownAndExpiredChallengesAreRefused() {
        KeyPair kp = Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA);
        // Issued by another store: this token never issued it.
        QuorumAuthorizer elsewhere = new QuorumAuthorizer(new InMemoryQuorumStore(),
            new AuditLog(new InMemoryQuorumStore(), Fixture.AUDIT_KEY, clock), clock, new java.security.SecureRandom(), QuorumWindows.CLOUDHSM);
        RegistrationChallenge foreign = elsewhere.challenge("mallory", kp.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        assertThatThrownBy(() -> authorizer.register(foreign, Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, kp, foreign.toBytes()), null))
            .isInstanceOf(QuorumException.class).hasMessageContaining("was not issued here");

        RegistrationChallenge c = authorizer.challenge("bob", kp.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        clock.advance(Duration.ofSeconds(601));
        reopen();
        assertThatThrownBy(() -> authorizer.register(RegistrationChallenge.fromBytes(c.toBytes()),
                Fixture.sign(SignatureScheme.SHA256_WITH_ECDSA, kp, c.toBytes()), null))
            .isInstanceOf(QuorumException.class).hasMessageContaining("expired");
        assertThat(authorizer.officers()).isEmpty();
    }

    @Test
    void aRotatedKeyProvesPossessionAndTheOldKeysApprovalsStopCounting() {
        register("alice");
        register("bob");
        authorizer.setValue(Service.KEY_MANAGEMENT, 2, null);
        ApprovalToken tok = authorizer.requestToken(DELETE_A, "ops");
        List<Approval> old = List.of(approve(tok, "alice"), approve(tok, "bob"));

        KeyPair fresh = Fixture.keyPair(SignatureScheme.ED25519);
        RegistrationChallenge c = authorizer.challenge("alice", fresh.getPublic(), SignatureScheme.ED25519);
        KeyPair wrong = Fixture.keyPair(SignatureScheme.ED25519);
        assertThatThrownBy(() -> authorizer.rotate(c, Fixture.sign(SignatureScheme.ED25519, wrong, c.toBytes()), null))
            .isInstanceOf(QuorumException.class).hasMessageContaining("did not sign the registration challenge");
        reopen(); // the challenge is still pending after a failed proof and a restart
        Officer rotated = authorizer.rotate(RegistrationChallenge.fromBytes(c.toBytes()),
            Fixture.sign(SignatureScheme.ED25519, fresh, c.toBytes()), null);
        assertThat(authorizer.officers().get("alice").keyFingerprint()).isEqualTo(rotated.keyFingerprint());
        assertThatThrownBy(() -> authorizer.rotate(c, Fixture.sign(SignatureScheme.ED25519, fresh, c.toBytes()), null))
            .isInstanceOf(QuorumException.class).hasMessageContaining("was not issued here, or was used");

        assertThatThrownBy(() -> authorizer.authorize(DELETE_A, tok, old))
            .isInstanceOf(QuorumException.class).hasMessageContaining("have 1 (bob); missing 1; invalid signature(s) from: alice");
        keys.keys.put("alice", fresh);
        keys.schemes.put("alice", SignatureScheme.ED25519);
        assertThat(authorizer.authorize(DELETE_A, tok, List.of(old.get(1), approve(tok, "alice"))).counted()).containsExactly("bob", "alice");

        // Rotating an unknown officer is refused.
        RegistrationChallenge nobody = authorizer.challenge("zoe", fresh.getPublic(), SignatureScheme.ED25519);
        assertThatThrownBy(() -> authorizer.rotate(nobody, Fixture.sign(SignatureScheme.ED25519, fresh, nobody.toBytes()), null))
            .isInstanceOf(QuorumException.class).extracting(e -> ((QuorumException) e).reason()).isEqualTo(Reason.UNKNOWN_OFFICER);
    }

    // ------------------------------------------------------------------ audit truncation

    @Test
    void removingTheLastAuditRecordIsDetectedAndNamed() {
        register("alice");
        register("bob");
        AuditLog.Verification ok = audit.check();
        assertThat(ok.ok()).as(ok.problem()).isTrue();
        int n = ok.records();
        assertThat(ok.checkpointCount()).isEqualTo(n);

        destroy("audit:" + (n - 1));
        assertThat(audit.verify()).as("the shorter chain verifies on its own").isEqualTo(-1);
        AuditLog.Verification cut = audit.check();
        assertThat(cut.ok()).isFalse();
        assertThat(cut.brokenAt()).isEqualTo(n - 1);
        assertThat(cut.problem()).isEqualTo("audit log truncated: it ends after record " + (n - 2)
            + " but the checkpoint counts " + n + " records; record " + (n - 1) + " is missing");

        destroy("audit:" + (n - 2));
        assertThat(audit.check().problem()).endsWith("records " + (n - 2) + ".." + (n - 1) + " are missing");

        destroy("rec:checkpoint:audit");
        assertThat(audit.check().problem()).contains("the checkpoint was removed");
    }

    @Test
    void theAuditKeyIsASensitiveNonExtractableTokenKey() {
        register("alice");
        Attribute[] a = t.pool.execute(s -> {
            long[] k = s.findObjects(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, TokenQuorumStore.AUDIT_KEY_ID.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            assertThat(k).hasSize(1);
            return s.getAttributes(k[0], CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.TOKEN, CKA.PRIVATE, CKA.LABEL);
        });
        assertThat(a[0].asBool()).isTrue();
        assertThat(a[1].asBool()).isFalse();
        assertThat(a[2].asBool()).isTrue();
        assertThat(a[3].asBool()).isTrue();
        assertThat(a[4].length()).as("no label: not a KeyStore entry").isZero();
        // A log MACed with a software key of the same length does not verify under the token's key.
        assertThat(new AuditLog(t.store, Fixture.AUDIT_KEY, clock).check().problem()).contains("does not verify");
    }

    // ------------------------------------------------------------------ pruning

    @Test
    void aPrunedTokenIsStillRefusedAndNewTokensStillWork() {
        register("alice");
        register("bob");
        authorizer.setValue(Service.KEY_MANAGEMENT, 2, null); // quorum is 1: no approval needed for this value
        ApprovalToken tok = authorizer.requestToken(DELETE_A, "ops");
        clock.advance(Duration.ofSeconds(590)); // approvals just before the token expires: usable until +1190 s
        List<Approval> approvals = List.of(approve(tok, "alice"), approve(tok, "bob"));
        authorizer.authorize(DELETE_A, tok, approvals);
        assertThatThrownBy(() -> authorizer.authorize(DELETE_A, tok, approvals))
            .isInstanceOf(QuorumException.class).extracting(e -> ((QuorumException) e).reason()).isEqualTo(Reason.ALREADY_USED);

        clock.advance(Duration.ofSeconds(11)); // the token expired; its approvals are still in their use window
        assertThatThrownBy(() -> authorizer.prune(clock.instant().minusSeconds(599)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not expired");
        QuorumAuthorizer.Pruned p = authorizer.prune(clock.instant().minus(QuorumWindows.CLOUDHSM.collect()));
        assertThat(p.consumed()).as("the token and the two answered registration challenges").isEqualTo(3);
        assertThat(t.store.isConsumed(tok.nonce())).as("the consumed record is gone").isFalse();
        assertThat(t.labels()).noneMatch(l -> l.startsWith("consumed:") || l.startsWith("rec:approval:"));

        // Replay after pruning, in this process and after a restart: refused by the floor, not by the consumed set.
        for (int round = 0; round < 2; round++) {
            assertThatThrownBy(() -> authorizer.authorize(DELETE_A, tok, approvals))
                .isInstanceOf(QuorumException.class).hasMessageContaining("before the prune floor")
                .extracting(e -> ((QuorumException) e).reason()).isEqualTo(Reason.BEFORE_FLOOR);
            reopen();
        }
        // A prune with an older horizon never lowers the floor.
        assertThat(authorizer.prune(clock.instant().minusSeconds(5000)).floor()).isEqualTo(p.floor());

        ApprovalToken fresh = authorizer.requestToken(DELETE_A, "ops");
        List<Approval> again = List.of(approve(fresh, "bob"), approve(fresh, "alice"));
        assertThat(authorizer.authorize(DELETE_A, fresh, again).allowed()).isTrue();
        assertThat(audit.check().ok()).isTrue();
    }

    private void destroy(String label) {
        t.pool.execute(s -> {
            long[] h = s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.string(CKA.LABEL, label));
            assertThat(h).as(label).hasSize(1);
            s.destroyObject(h[0]);
            return null;
        });
    }
}
