package io.hsmkit.quorum;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The child JVM of {@link TokenQuorumStoreKillTest}: an approval flow over a TokenQuorumStore, step by
 * step, printing {@code STEP n} (and what the parent needs to check it) only after each step returned.
 * Args: library, token label, officer key file. The user PIN comes in HSMKIT_USER_PIN.
 */
public final class TokenFlowChild {
    static final Action CREATE_BOB = Action.of(Service.USER, "create-user", Map.of("name", "bob", "role", "crypto-user"));
    static final String REQUESTER = "requester";

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (TokenStores t = new TokenStores(args[0], args[1], System.getenv("HSMKIT_USER_PIN").toCharArray())) {
            Fixture f = new Fixture(t.store);
            TokenStores.decodeKeys(Files.readString(Path.of(args[2])), f);
            String[] officers = {"alice", "bob", "carol"};
            for (int i = 0; i < officers.length; i++) {
                f.register(officers[i], SignatureScheme.SHA256_WITH_ECDSA, null);
                step(out, i + 1, "registered " + officers[i]);
            }
            f.setValue(Service.QUORUM, 2);
            step(out, 4, "quorum=2");
            f.setValue(Service.USER, 2, "alice", "bob");
            step(out, 5, "user=2");
            ApprovalToken token = f.authorizer.requestToken(CREATE_BOB, REQUESTER);
            out.println("TOKEN " + Base64.getEncoder().encodeToString(token.toBytes()));
            step(out, 6, "requested " + token.id());
            List<Approval> approvals = f.approvals(token, "alice", "carol");
            step(out, 7, "approved by alice, carol");
            f.authorizer.authorize(CREATE_BOB, token, approvals);
            step(out, 8, "authorized");
            try {
                f.authorizer.authorize(CREATE_BOB, token, approvals);
                out.println("REPLAY ACCEPTED");
            } catch (QuorumException e) {
                step(out, 9, "replay refused: " + e.reason());
            }
        }
        out.println("DONE");
    }

    private static void step(PrintStream out, int n, String what) {
        out.println("STEP " + n + " " + what);
        out.flush();
    }
}
