package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.quorum.store.FileQuorumStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStoreAndAuditTest {
    static final Action CREATE_BOB = Action.of(Service.USER, "create-user", Map.of("name", "bob"));

    @TempDir
    Path dir;

    private Fixture twoOfThree() {
        Fixture f = new Fixture(new FileQuorumStore(dir)).officers("alice", "bob", "carol");
        f.setValue(Service.QUORUM, 2);
        f.setValue(Service.USER, 2, "alice", "bob");
        return f;
    }

    @Test
    void replayAfterReopeningTheFileStoreIsRefused() {
        Fixture f = twoOfThree();
        ApprovalToken t = f.authorizer.requestToken(CREATE_BOB, "req");
        List<Approval> approvals = f.approvals(t, "alice", "bob");
        f.authorizer.authorize(CREATE_BOB, t, approvals);
        f.store.close();

        Fixture g = f.reopen(new FileQuorumStore(dir));
        assertThat(g.authorizer.officers()).containsOnlyKeys("alice", "bob", "carol");
        assertThat(g.authorizer.policy().value(Service.USER)).isEqualTo(2);
        assertThatThrownBy(() -> g.authorizer.authorize(CREATE_BOB, ApprovalToken.parseText(t.toText()), approvals))
                .isInstanceOf(QuorumException.class).hasMessageContaining("ALREADY_USED");
        assertThat(g.audit.verify()).isEqualTo(-1);
        g.store.close();
    }

    @Test
    void pendingTokensSurviveReopen() {
        Fixture f = twoOfThree();
        ApprovalToken t = f.authorizer.requestToken(CREATE_BOB, "req");
        f.store.close();
        Fixture g = f.reopen(new FileQuorumStore(dir));
        assertThat(g.store.pending()).containsExactly(t);
        assertThat(g.authorizer.authorize(CREATE_BOB, t, g.approvals(t, "bob", "carol")).allowed()).isTrue();
        assertThat(g.store.pending()).isEmpty();
        g.store.close();
    }

    @Test
    void twoStoresOnOneDirectoryConsumeOnce() {
        try (FileQuorumStore a = new FileQuorumStore(dir); FileQuorumStore b = new FileQuorumStore(dir)) {
            byte[] nonce = new byte[16];
            assertThat(a.consume(nonce)).isTrue();
            assertThat(b.consume(nonce)).isFalse();
            assertThat(b.isConsumed(nonce)).isTrue();
        }
    }

    /** Runs a representative flow with refusals and uses so the log has every kind of record. */
    private Fixture busyLog() {
        Fixture f = twoOfThree();
        ApprovalToken t = f.authorizer.requestToken(CREATE_BOB, "req");
        List<Approval> approvals = f.approvals(t, "alice", "bob");
        assertThatThrownBy(() -> f.authorizer.authorize(Action.of(Service.USER, "delete-user", Map.of("name", "alice")), t, approvals))
                .isInstanceOf(QuorumException.class);
        f.authorizer.authorize(CREATE_BOB, t, approvals);
        assertThatThrownBy(() -> f.authorizer.authorize(CREATE_BOB, t, approvals)).isInstanceOf(QuorumException.class);
        return f;
    }

    @Test
    void auditLogVerifiesAndHasEveryKind() {
        Fixture f = busyLog();
        assertThat(f.audit.verify()).isEqualTo(-1);
        assertThat(f.audit.records()).extracting(r -> r.kind().name())
                .contains("REQUEST", "APPROVAL", "USE", "REFUSAL");
    }

    @Test
    void editingOneRecordShowsWhereTheChainBreaks() throws Exception {
        Fixture f = busyLog();
        Path audit = dir.resolve("audit.txt");
        List<String> lines = new ArrayList<>(Files.readAllLines(audit));
        int victim = 5;
        String[] fields = lines.get(victim).split("\t", -1);
        String details = new String(Base64.getDecoder().decode(fields[3]), StandardCharsets.UTF_8);
        fields[3] = Base64.getEncoder().encodeToString((details + " (edited)").getBytes(StandardCharsets.UTF_8));
        lines.set(victim, String.join("\t", fields));
        Files.write(audit, lines);
        assertThat(f.audit.verify()).isEqualTo(victim);
    }

    @Test
    void removingOneRecordShowsWhereTheChainBreaks() throws Exception {
        Fixture f = busyLog();
        Path audit = dir.resolve("audit.txt");
        List<String> lines = new ArrayList<>(Files.readAllLines(audit));
        int victim = 7;
        lines.remove(victim);
        Files.write(audit, lines);
        assertThat(f.audit.verify()).isEqualTo(victim);
    }

    @Test
    void recomputingTheChainWithoutTheKeyIsCaughtByTheMac() {
        Fixture f = busyLog();
        // Someone with the log but not the key rebuilds it: a log under a different key fails at record 0.
        AuditLog forged = new AuditLog(f.store, "another-key-of-32-bytes-length!!".getBytes(StandardCharsets.US_ASCII), f.clock);
        assertThat(forged.verify()).isEqualTo(0);
    }
}
