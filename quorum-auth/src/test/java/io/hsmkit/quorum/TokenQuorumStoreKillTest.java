package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.quorum.QuorumDecision.Reason;
import io.hsmkit.quorum.store.AuditRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 5: "State survives a kill -9 of the process at any point of an approval flow: nothing committed
 * is lost, nothing half-written is accepted." A child JVM ({@link TokenFlowChild}) runs the flow against
 * the token and reports each step after it returned; it is killed ({@code destroyForcibly}, SIGKILL on
 * Linux) as soon as it reports the chosen step, while it is already working on the next. The test then
 * reopens the token in this JVM and checks every reported step, the audit chain, and that the flow can
 * be finished (or is refused) consistently with what the token holds.
 */
class TokenQuorumStoreKillTest {
    static TestToken token;
    static Path keyFile;
    static final Fixture KEYS = new Fixture(new io.hsmkit.quorum.store.InMemoryQuorumStore());

    @BeforeAll
    static void setUp() throws Exception {
        token = TestToken.create("quorum-kill", "quorum-kill");
        for (String id : List.of("alice", "bob", "carol")) {
            KEYS.keys.put(id, Fixture.keyPair(SignatureScheme.SHA256_WITH_ECDSA));
            KEYS.schemes.put(id, SignatureScheme.SHA256_WITH_ECDSA);
        }
        keyFile = TestToken.buildDir().resolve("tokens/quorum-kill/officers.keys");
        Files.writeString(keyFile, TokenStores.encodeKeys(KEYS.keys));
    }

    @Test
    void killedChildLosesNothingCommittedAndLeavesNothingHalfWritten() throws Exception {
        for (int killAt : new int[] {2, 5, 6, 7}) {
            try (TokenStores t = open()) {
                t.wipe();
            }
            List<String> reported = runAndKill(killAt);
            check(killAt, reported);
        }
    }

    private static TokenStores open() {
        return new TokenStores(token.library(), token.label(), token.userPin());
    }

    /** Starts the child, kills it right after it reports step {@code killAt}; returns every line it got out. */
    private static List<String> runAndKill(int killAt) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                TokenFlowChild.class.getName(), token.library(), token.label(), keyFile.toString());
        pb.environment().put("SOFTHSM2_CONF", token.conf());
        pb.environment().put("HSMKIT_USER_PIN", new String(token.userPin()));
        pb.redirectError(TestToken.buildDir().resolve("tokens/quorum-kill/child-" + killAt + ".err").toFile());
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("STEP " + killAt + " ")) {
                    // SIGKILL (no shutdown hooks, no finally blocks). Through the handle, which unlike
                    // Process.destroyForcibly leaves our end of the pipe open: lines already written are still read.
                    p.toHandle().destroyForcibly();
                }
            }
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(lines).as("child output; see target/tokens/quorum-kill/child-%d.err", killAt)
                .anyMatch(l -> l.startsWith("STEP " + killAt + " "));
        return lines;
    }

    private static int lastStep(List<String> lines) {
        int last = 0;
        for (String l : lines) {
            if (l.startsWith("STEP ")) {
                last = Integer.parseInt(l.split(" ")[1]);
            }
        }
        return last;
    }

    private static void check(int killAt, List<String> lines) {
        int last = lastStep(lines);
        String as = "killed after step " + killAt + ", last reported " + last + ": " + lines;
        System.out.println("kill -9 after step " + killAt + ": last step reported " + last);
        try (TokenStores t = open()) {
            Fixture g = KEYS.reopen(t.store);
            // Nothing half-written is accepted: every record parses and the chain verifies.
            Map<String, Officer> officers = t.store.officers();
            Map<Service, Integer> values = t.store.values();
            List<ApprovalToken> pending = t.store.pending();
            List<AuditRecord> audit = g.audit.records();
            assertThat(g.audit.verify()).as(as).isEqualTo(-1L);
            assertThat(audit).as(as).isNotEmpty();

            // Nothing committed is lost.
            List<String> ids = List.of("alice", "bob", "carol");
            for (int i = 0; i < 3; i++) {
                if (last >= i + 1) {
                    assertThat(officers).as(as).containsKey(ids.get(i));
                } else if (officers.containsKey(ids.get(i))) {
                    assertThat(officers).as(as).containsKeys(ids.subList(0, i).toArray(String[]::new));  // in order
                }
            }
            if (last >= 4) {
                assertThat(values).as(as).containsEntry(Service.QUORUM, 2);
            }
            if (last >= 5) {
                assertThat(values).as(as).containsEntry(Service.USER, 2);
            }
            ApprovalToken reportedToken = lines.stream().filter(l -> l.startsWith("TOKEN ")).findFirst()
                    .map(l -> ApprovalToken.fromBytes(Base64.getDecoder().decode(l.substring(6)))).orElse(null);
            if (last >= 6) {
                assertThat(reportedToken).as(as).isNotNull();
                assertThat(t.store.isConsumed(reportedToken.nonce())
                        || pending.stream().anyMatch(p -> p.id().equals(reportedToken.id()))).as(as).isTrue();
            }
            if (last >= 8) {
                assertThat(t.store.isConsumed(reportedToken.nonce())).as(as).isTrue();   // a consumed token stays consumed
            }

            // The flow continues, or is refused, consistently with what the token holds.
            for (String id : ids) {
                if (!t.store.officers().containsKey(id)) {
                    assertThat(t.store.values().getOrDefault(Service.USER, 1)).as(as).isEqualTo(1);
                    g.register(id, SignatureScheme.SHA256_WITH_ECDSA, null);
                }
            }
            if (!t.store.values().containsKey(Service.QUORUM)) {
                g.setValue(Service.QUORUM, 2);
            }
            if (t.store.values().getOrDefault(Service.USER, 1) != 2) {
                for (ApprovalToken p : t.store.pending()) {   // a set-value request the child did not get to use
                    g.authorizer.withdraw(p);
                }
                g.setValue(Service.USER, 2, "alice", "bob");
            }
            ApprovalToken tok = reportedToken;
            if (tok == null) {
                for (ApprovalToken p : t.store.pending()) {   // requested, killed before it said so: withdrawn
                    g.authorizer.withdraw(p);
                }
                tok = g.authorizer.requestToken(TokenFlowChild.CREATE_BOB, TokenFlowChild.REQUESTER);
            }
            List<Approval> approvals = g.approvals(tok, "alice", "carol");
            if (t.store.isConsumed(tok.nonce())) {
                assertThat(refusal(g, tok, approvals)).as(as).isEqualTo(Reason.ALREADY_USED);
            } else {
                assertThat(last).as(as).isLessThan(8);
                assertThat(g.authorizer.authorize(TokenFlowChild.CREATE_BOB, tok, approvals).allowed()).isTrue();
                assertThat(refusal(g, tok, approvals)).as(as).isEqualTo(Reason.ALREADY_USED);
            }
            assertThat(g.audit.verify()).as(as).isEqualTo(-1L);
            assertThat(g.audit.records().size()).as(as).isGreaterThan(audit.size());
        }
    }

    private static Reason refusal(Fixture g, ApprovalToken tok, List<Approval> approvals) {
        try {
            g.authorizer.authorize(TokenFlowChild.CREATE_BOB, tok, approvals);
        } catch (QuorumException e) {
            return e.reason();
        }
        throw new AssertionError("authorized twice");
    }
}
