package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.AuditRecord;
import io.hsmkit.quorum.store.TokenQuorumStore;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The authorizer's main flows with the quorum state on a real (SoftHSM2) token. */
class TokenQuorumStoreTest {
    static final Action CREATE_BOB = Action.of(Service.USER, "create-user", Map.of("name", "bob", "role", "crypto-user"));

    static TestToken token;
    TokenStores t;
    Fixture f;

    @BeforeAll
    static void token() {
        token = TestToken.create("quorum-token-store", "quorum-store");
    }

    @BeforeEach
    void setUp() {
        t = open();
        t.wipe();
        f = new Fixture(t.store).officers("alice", "bob", "carol");   // each with proof of possession
        f.setValue(Service.QUORUM, 2);
        f.setValue(Service.USER, 2, "alice", "bob");
    }

    @AfterEach
    void tearDown() {
        if (t != null) {
            t.close();
        }
    }

    @AfterAll
    static void done() {
        token = null;
    }

    static TokenStores open() {
        return new TokenStores(token.library(), token.label(), token.userPin());
    }

    @Test
    void stateIsPrivateTokenDataObjects() {
        List<String> labels = t.labels();
        assertThat(labels).contains("officer:alice", "officer:bob", "officer:carol", "value:quorum", "value:user", "audit:0");
        assertThat(labels).noneMatch(l -> l.contains("not a private token object"));
        assertThat(labels).anyMatch(l -> l.startsWith("consumed:"));   // the user=2 change consumed a token
        assertThat(f.authorizer.policy().value(Service.USER)).isEqualTo(2);
        assertThat(f.authorizer.officers()).containsOnlyKeys("alice", "bob", "carol");
        assertThat(f.audit.verify()).isEqualTo(-1);
    }

    @Test
    void twoOfThreeAuthorizeAndReplayIsRefusedAfterReopeningOnANewModule() {
        ApprovalToken tok = f.authorizer.requestToken(CREATE_BOB, "requester");
        assertThat(t.store.pending()).extracting(ApprovalToken::id).contains(tok.id());
        List<Approval> approvals = f.approvals(tok, "alice", "carol");
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, tok, approvals.subList(0, 1)))
                .isInstanceOf(QuorumException.class).hasMessageContaining("missing 1");
        QuorumDecision d = f.authorizer.authorize(CREATE_BOB, tok, approvals);
        assertThat(d.counted()).containsExactly("alice", "carol");
        assertThat(t.store.pending()).extracting(ApprovalToken::id).doesNotContain(tok.id());
        int auditSize = f.audit.records().size();

        // A new module and pool on the same token, as after a restart: the state travels with the token.
        t.close();
        t = open();
        Fixture g = f.reopen(t.store);
        assertThat(g.authorizer.officers()).containsOnlyKeys("alice", "bob", "carol");
        assertThat(g.authorizer.policy().value(Service.USER)).isEqualTo(2);
        assertThat(t.store.isConsumed(tok.nonce())).isTrue();
        assertThat(g.audit.records()).hasSize(auditSize);
        assertThatThrownBy(() -> g.authorizer.authorize(CREATE_BOB, tok, g.approvals(tok, "alice", "bob")))
                .isInstanceOf(QuorumException.class).extracting(e -> ((QuorumException) e).reason()).isEqualTo(Reason.ALREADY_USED);
        assertThat(g.audit.verify()).isEqualTo(-1);
    }

    @Test
    void twoThreadsSpendingOneTokenExactlyOneWins() throws Exception {
        for (int round = 0; round < 5; round++) {
            ApprovalToken tok = f.authorizer.requestToken(CREATE_BOB, "requester-" + round);
            List<Approval> approvals = f.approvals(tok, "alice", "bob");
            // Two stores on two pools in one JVM, as two components would have.
            try (TokenStores other = open()) {
                Fixture g = f.reopen(other.store);
                CountDownLatch go = new CountDownLatch(1);
                ExecutorService ex = Executors.newFixedThreadPool(2);
                try {
                    List<Future<Boolean>> results = new ArrayList<>();
                    for (QuorumAuthorizer a : List.of(f.authorizer, g.authorizer)) {
                        results.add(ex.submit(() -> {
                            go.await();
                            try {
                                a.authorize(CREATE_BOB, tok, approvals);
                                return true;
                            } catch (QuorumException e) {
                                assertThat(e.reason()).isEqualTo(Reason.ALREADY_USED);
                                return false;
                            }
                        }));
                    }
                    go.countDown();
                    int wins = 0;
                    for (Future<Boolean> r : results) {
                        wins += r.get() ? 1 : 0;
                    }
                    assertThat(wins).as("round " + round).isEqualTo(1);
                } finally {
                    ex.shutdownNow();
                }
            }
        }
        assertThat(f.audit.verify()).isEqualTo(-1);
    }

    @Test
    void consumeIsATestAndSetAndAValueSetAgainReplacesTheOld() {
        byte[] nonce = new byte[16];
        f.random.nextBytes(nonce);
        assertThat(t.store.isConsumed(nonce)).isFalse();
        assertThat(t.store.consume(nonce)).isTrue();
        assertThat(t.store.consume(nonce)).isFalse();
        assertThat(t.store.isConsumed(nonce)).isTrue();

        t.store.setValue(Service.KEY_MANAGEMENT, 2);
        t.store.setValue(Service.KEY_MANAGEMENT, 3);
        assertThat(t.store.values()).containsEntry(Service.KEY_MANAGEMENT, 3);
        assertThat(t.labels()).filteredOn(l -> l.equals("value:" + Service.KEY_MANAGEMENT.wireName())).hasSize(1);
        assertThat(t.store.removeOfficer("carol")).isTrue();
        assertThat(t.store.removeOfficer("carol")).isFalse();
        assertThat(t.store.officers()).containsOnlyKeys("alice", "bob");
    }

    @Test
    void aRecordWhoseSealDoesNotMatchIsNeverAccepted() {
        byte[] nonce = new byte[16];
        f.random.nextBytes(nonce);
        String hex = HexFormat.of().formatHex(nonce);
        List<AuditRecord> before = f.audit.records();
        // What a half-written object would look like: right label, value without a valid seal.
        t.pool.execute(s -> {
            for (String[] lv : new String[][] {{"consumed:" + hex, hex}, {"audit:" + before.size(), "garbage"},
                    {"officer:mallory", "mallory\tSHA256withECDSA\tAAAA"}}) {
                s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true),
                        Attribute.string(CKA.APPLICATION, TokenQuorumStore.APPLICATION), Attribute.string(CKA.LABEL, lv[0]),
                        Attribute.bytes(CKA.OBJECT_ID, new byte[40]), Attribute.bytes(CKA.VALUE, TokenStores.utf8(lv[1])));
            }
            return null;
        });
        assertThat(t.store.isConsumed(nonce)).isFalse();
        assertThat(t.store.consume(nonce)).isTrue();
        assertThat(t.store.officers()).doesNotContainKey("mallory");
        assertThat(f.audit.records()).hasSize(before.size());
        f.audit.append(io.hsmkit.quorum.store.AuditKind.REQUEST, "after a half-written record");
        assertThat(f.audit.records()).hasSize(before.size() + 1);
        assertThat(f.audit.verify()).isEqualTo(-1);
    }
}
