package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hsmkit quorum: a 2-of-3 flow over a temp state directory. Officer keys are made with the JDK; carol
 * signs with the real openssl binary, exactly as QUORUM.md (and the ApprovalToken Javadoc) show.
 */
class QuorumCommandTest {
  @TempDir Path dir;

  @BeforeAll
  static void opensslPresent() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
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

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** NAME.key (PKCS#8 PEM) and NAME.pub (X.509 PEM) from a JDK key pair. */
  private void writeKey(String name, KeyPair kp) throws IOException {
    Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
    Files.writeString(dir.resolve(name + ".pub"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
  }

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private String p(String name) {
    return dir.resolve(name).toString();
  }

  /** Runs hsmkit quorum VERB... --state DIR (sign takes no state). */
  private Cli.Run q(String... args) {
    List<String> a = new ArrayList<>();
    a.add("quorum");
    a.addAll(List.of(args));
    if (!args[0].equals("sign")) { // sign needs no state
      a.add("--state");
      a.add(p("state"));
    }
    return Cli.run(a.toArray(new String[0]));
  }

  /** carol signs FILE with openssl, exactly as QUORUM.md shows. */
  private void opensslSignToken(String token, String sig) throws Exception {
    sh("sed -e '/^-----/d' -e '/:/d' -e '/^$/d' " + token + " | openssl base64 -d -out " + token + ".bin");
    sh("openssl dgst -sha256 -sign carol.key -out " + sig + " " + token + ".bin");
  }

  @Test
  void twoOfThreeFlow() throws Exception {
    writeKey("alice", ec());
    writeKey("bob", KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
    writeKey("carol", ec());

    // Registration with proof of possession: alice and bob sign the challenge here with --key ...
    q("officers", "register", "--id", "alice", "--scheme", "ecdsa", "--public-key", p("alice.pub"), "--key", p("alice.key")).ok();
    q("officers", "register", "--id", "bob", "--scheme", "ed25519", "--public-key", p("bob.pub"), "--key", p("bob.key")).ok();
    // ... carol's proof comes from openssl while the register command waits for it.
    CompletableFuture<Cli.Run> carol = CompletableFuture.supplyAsync(() -> q("officers", "register", "--id", "carol",
        "--scheme", "ecdsa", "--public-key", p("carol.pub"), "--challenge", p("carol.challenge"), "--signature", p("carol.pop.sig"),
        "--wait", "60"));
    for (int i = 0; i < 300 && !Files.exists(dir.resolve("carol.challenge")); i++) {
      Thread.sleep(100);
    }
    sh("openssl dgst -sha256 -sign carol.key -out carol.pop.tmp carol.challenge && mv carol.pop.tmp carol.pop.sig");
    Cli.Run reg = carol.get(60, TimeUnit.SECONDS);
    assertThat(reg.exit()).as(reg.err()).isZero();
    assertThat(reg.out()).contains("registered officer carol (ecdsa, key-sha256 ");

    JsonNode officers = q("officers", "list", "--json").ok().json().get("officers");
    assertThat(officers).hasSize(3);
    assertThat(officers.get(1).get("id").asText()).isEqualTo("bob");
    assertThat(officers.get(1).get("scheme").asText()).isEqualTo("ed25519");
    assertThat(q("officers", "list").ok().out()).containsPattern("(?m)^carol +ecdsa +[0-9a-f]{64}$");

    // quorum = 2 while quorum is off; user = 2 always needs a quorum approval.
    q("values", "set", "--service", "quorum", "--value", "2").ok();
    q("values", "set", "--service", "user", "--value", "2").fails("APPROVAL_REQUIRED");
    q("token", "create", "--service", "quorum", "--operation", "set-value", "--arg", "service=user", "--arg", "value=2",
        "--requester", "admin", "--out", p("set-user.token")).ok();
    q("sign", "--token", p("set-user.token"), "--key", p("alice.key"), "--scheme", "ecdsa", "--out", p("set-user.alice.sig")).ok();
    opensslSignToken("set-user.token", "set-user.carol.sig");
    q("approve", "--token", p("set-user.token"), "--officer", "alice", "--signature", p("set-user.alice.sig")).ok();
    q("approve", "--token", p("set-user.token"), "--officer", "carol", "--signature", p("set-user.carol.sig")).ok();
    q("values", "set", "--service", "user", "--value", "2", "--approval", p("set-user.token")).ok();
    JsonNode values = q("values", "show", "--json").ok().json();
    assertThat(values.at("/values/user").asInt()).isEqualTo(2);
    assertThat(values.at("/values/quorum").asInt()).isEqualTo(2);
    assertThat(q("values", "show").ok().out()).containsPattern("(?m)^user +2$");
    // A used token is not used twice.
    q("values", "set", "--service", "user", "--value", "2", "--approval", p("set-user.token")).fails("ALREADY_USED");

    // user/create-user name=bob: 2 of 3.
    q("token", "create", "--service", "user", "--operation", "create-user", "--arg", "name=bob", "--requester", "alice",
        "--out", p("bob.token")).ok();
    JsonNode before = q("status", "--token", p("bob.token"), "--json").ok().json();
    assertThat(before.get("missing").asInt()).isEqualTo(2);
    assertThat(before.get("complete").asBoolean()).isFalse();

    q("sign", "--token", p("bob.token"), "--key", p("bob.key"), "--scheme", "ed25519", "--out", p("bob.bob.sig")).ok();
    opensslSignToken("bob.token", "bob.carol.sig");
    // A signature by someone else is not recorded as alice's.
    q("approve", "--token", p("bob.token"), "--officer", "alice", "--signature", p("bob.carol.sig")).fails("is not alice's");
    q("approve", "--token", p("bob.token"), "--officer", "bob", "--signature", p("bob.bob.sig")).ok();
    assertThat(q("status", "--token", p("bob.token"), "--json").ok().json().get("missing").asInt()).isEqualTo(1);
    q("approve", "--token", p("bob.token"), "--officer", "carol", "--signature", p("bob.carol.sig")).ok();

    JsonNode status = q("status", "--token", p("bob.token"), "--json").ok().json();
    assertThat(status.get("complete").asBoolean()).isTrue();
    assertThat(status.get("missing").asInt()).isZero();
    assertThat(status.get("required").asInt()).isEqualTo(2);
    assertThat(status.get("operation").asText()).isEqualTo("create-user");
    assertThat(status.get("approvedBy")).extracting(JsonNode::asText).containsExactly("bob", "carol");
    assertThat(q("status", "--token", p("bob.token")).ok().out())
        .containsPattern("(?m)^missing +0$").containsPattern("(?m)^complete +yes$").containsPattern("(?m)^approvedBy +bob, carol$");

    // The approved token is for create-user name=bob: using it to remove carol is refused.
    q("officers", "remove", "--id", "carol", "--approval", p("bob.token")).fails("ACTION_MISMATCH");
    assertThat(q("officers", "list", "--json").ok().json().get("officers")).hasSize(3);

    // The audit chain verifies; an edited record is named.
    assertThat(q("audit", "verify").ok().out()).startsWith("audit log verifies: ");
    Path audit = dir.resolve("state").resolve("audit.txt");
    List<String> lines = new ArrayList<>(Files.readAllLines(audit));
    int victim = 3;
    String[] f = lines.get(victim).split("\t", -1);
    String details = new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8);
    f[3] = Base64.getEncoder().encodeToString((details + " (edited)").getBytes(StandardCharsets.UTF_8));
    lines.set(victim, String.join("\t", f));
    Files.write(audit, lines);
    q("audit", "verify").fails("audit record 3 of " + lines.size() + " does not verify");

    // The audit key is private to its owner.
    assertThat(Files.getPosixFilePermissions(dir.resolve("state").resolve(QuorumState.AUDIT_KEY)))
        .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void registrationNeedsTheMatchingPrivateKey() throws Exception {
    writeKey("alice", ec());
    writeKey("mallory", ec());
    q("officers", "register", "--id", "alice", "--scheme", "ecdsa", "--public-key", p("alice.pub"), "--key", p("mallory.key"))
        .fails("NO_PROOF_OF_POSSESSION");
    q("officers", "register", "--id", "alice", "--scheme", "ed25519", "--public-key", p("alice.pub"), "--key", p("alice.key"))
        .fails("not a key for ed25519");
    assertThat(q("officers", "list").ok().out()).startsWith("No officers registered");
    assertThat(Cli.run("quorum").exit()).isEqualTo(2);
  }
}
