package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Officers sign with the real openssl binary, exactly as the ApprovalToken Javadoc documents. */
class OpensslInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void opensslPresent() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            if (p.waitFor() != 0) {
                fail("openssl is installed but 'openssl version' failed");
            }
        } catch (IOException | InterruptedException e) {
            fail("The openssl binary is needed for this test; install it (Debian/Ubuntu: apt-get install openssl, "
                    + "Fedora: dnf install openssl, macOS: brew install openssl@3) and put it on PATH", e);
        }
    }

    private String sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s%n%s", command, out).isZero();
        return out;
    }

    /** Generates a key with openssl and returns its public key, read back through the JDK. */
    private PublicKey opensslKey(String name, String genCommand, SignatureScheme scheme) throws Exception {
        sh(genCommand + " -out " + name + ".key");
        sh("openssl pkey -in " + name + ".key -pubout -outform DER -out " + name + ".pub.der");
        return scheme.decodePublicKey(Files.readAllBytes(dir.resolve(name + ".pub.der")));
    }

    record O(String id, SignatureScheme scheme, String gen, String sign) {}

    /** Writes the token file, extracts the signed bytes as documented and has each officer sign with openssl. */
    private List<Approval> opensslApprovals(Fixture f, ApprovalToken t, List<O> officers) throws Exception {
        Files.writeString(dir.resolve("token.pem"), t.toText());
        sh("sed -e '/^-----/d' -e '/:/d' -e '/^$/d' token.pem | openssl base64 -d -out token.bin");
        assertThat(Files.readAllBytes(dir.resolve("token.bin"))).isEqualTo(t.toBytes());
        List<Approval> approvals = new ArrayList<>();
        for (O o : officers) {
            sh(String.format(o.sign, o.id, o.id + ".sig", "token.bin"));
            approvals.add(f.authorizer.receiveApproval(t, o.id, Files.readAllBytes(dir.resolve(o.id + ".sig"))));
        }
        return approvals;
    }

    @Test
    void ecRsaPssAndEd25519SignaturesFromOpensslAreAccepted() throws Exception {
        Fixture f = new Fixture(new InMemoryQuorumStore());
        List<O> officers = List.of(
                new O("ec", SignatureScheme.SHA256_WITH_ECDSA, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                        "openssl dgst -sha256 -sign %1$s.key -out %2$s %3$s"),
                new O("rsa", SignatureScheme.SHA256_WITH_RSA, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
                        "openssl dgst -sha256 -sign %1$s.key -out %2$s %3$s"),
                new O("pss", SignatureScheme.RSASSA_PSS, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
                        "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256"
                                + " -sign %1$s.key -out %2$s %3$s"),
                new O("ed", SignatureScheme.ED25519, "openssl genpkey -algorithm ED25519",
                        "openssl pkeyutl -sign -rawin -inkey %1$s.key -in %3$s -out %2$s"));

        // Registration: proof of possession signed by openssl too.
        for (O o : officers) {
            PublicKey pub = opensslKey(o.id, o.gen, o.scheme);
            RegistrationChallenge c = f.authorizer.challenge(o.id, pub, o.scheme);
            Files.write(dir.resolve(o.id + ".challenge.bin"), c.toBytes());
            sh(String.format(o.sign, o.id, o.id + ".pop.sig", o.id + ".challenge.bin"));
            f.authorizer.register(c, Files.readAllBytes(dir.resolve(o.id + ".pop.sig")), null);
        }
        f.setValue(Service.QUORUM, 4);
        Action raise = QuorumAuthorizer.setValueAction(Service.KEY_MANAGEMENT, 4);
        ApprovalToken raiseToken = f.authorizer.requestToken(raise, "admin");
        f.authorizer.setValue(Service.KEY_MANAGEMENT, 4,
                new QuorumAuthorizer.Authorization(raiseToken, opensslApprovals(f, raiseToken, officers)));

        Action deleteKey = Action.of(Service.KEY_MANAGEMENT, "delete-key", Map.of("label", "payments-2026"));
        ApprovalToken t = f.authorizer.requestToken(deleteKey, "requester");
        List<Approval> approvals = opensslApprovals(f, t, officers);
        QuorumDecision d = f.authorizer.authorize(deleteKey, t, approvals);
        assertThat(d.counted()).containsExactly("ec", "rsa", "pss", "ed");
        assertThat(f.audit.verify()).isEqualTo(-1);
    }
}
