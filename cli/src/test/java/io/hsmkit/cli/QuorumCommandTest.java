package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hsmkit quorum: a 2-of-3 flow with the state on the token (the default), and the file store when asked
 * with --state. Officer keys are made with the JDK; carol signs with the real openssl binary, exactly as
 * the README (and the ApprovalToken Javadoc) show.
 */
class QuorumCommandTest {
  @TempDir Path dir;
  private static Cli cli;

  @BeforeAll
  static void opensslPresent() {
    cli = new Cli("QuorumCommandTest", "cli-quorum");
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

  /** Runs hsmkit quorum VERB... --config CFG: the state on this class's token (sign takes no state). */
  private Cli.Run q(String... args) {
    return quorum("--config", cli.config.toString(), args);
  }

  /** Runs hsmkit quorum VERB... --state DIR: the file store. */
  private Cli.Run qf(String... args) {
    return quorum("--state", p("state"), args);
  }

  private static Cli.Run quorum(String option, String value, String... args) {
    List<String> a = new ArrayList<>();
    a.add("quorum");
    a.addAll(List.of(args));
    if (!args[0].equals("sign")) { // sign needs no state
      a.add(option);
      a.add(value);
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
    // ... carol's proof comes from openssl, in two runs of the command (the challenge waits in the token).
    assertThat(q("officers", "register", "--id", "carol", "--scheme", "ecdsa", "--public-key", p("carol.pub"),
        "--challenge", p("carol.challenge")).ok().out()).startsWith("challenge ").contains(" for carol written to ");
    sh("openssl dgst -sha256 -sign carol.key -out carol.pop.sig carol.challenge");
    assertThat(q("officers", "register", "--challenge", p("carol.challenge"), "--signature", p("carol.pop.sig")).ok().out())
        .contains("registered officer carol (ecdsa, key-sha256 ");
    // A challenge is answered once; one the token never issued is refused.
    q("officers", "register", "--challenge", p("carol.challenge"), "--signature", p("carol.pop.sig"))
        .fails("was not issued here, or was used");
    qf("officers", "register", "--id", "dave", "--scheme", "ecdsa", "--public-key", p("carol.pub"), "--challenge", p("dave.challenge")).ok();
    sh("openssl dgst -sha256 -sign carol.key -out dave.pop.sig dave.challenge");
    q("officers", "register", "--challenge", p("dave.challenge"), "--signature", p("dave.pop.sig")).fails("was not issued here");

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

    // Pruning: never with a horizon inside the collect window; the default forgets nothing usable.
    q("prune", "--older-than", "100").fails("it would refuse tokens that have not expired");
    assertThat(q("prune").ok().out()).startsWith("pruned 0 consumed, 0 expired pending, ").contains(" are refused");
    q("values", "set", "--service", "user", "--value", "2", "--approval", p("set-user.token")).fails("ALREADY_USED");

    // The audit chain verifies; removing its last record (a token object) is named as missing.
    String verified = q("audit", "verify").ok().out();
    assertThat(verified).startsWith("audit log verifies: ");
    int n = Integer.parseInt(verified.replaceAll("(?s)audit log verifies: (\\d+) records.*", "$1"));
    destroyTokenObject("audit:" + (n - 1));
    q("audit", "verify").fails("audit log truncated: it ends after record " + (n - 2) + " but the checkpoint counts " + n
        + " records; record " + (n - 1) + " is missing");
  }

  /** Destroys one of the quorum store's objects on the token, as someone holding the user PIN could. */
  private static void destroyTokenObject(String label) {
    try (Pkcs11Module m = Pkcs11Module.open(cli.token.library());
        Session s = m.slotByTokenLabel(cli.token.label()).orElseThrow().openSession(true)) {
      s.login(CKU.USER, cli.token.userPin());
      try {
        long[] h = s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.string(CKA.LABEL, label));
        assertThat(h).as(label).hasSize(1);
        s.destroyObject(h[0]);
      } finally {
        s.logout();
      }
    }
  }

  @Test
  void theFileStoreWhenAskedDetectsEditsAndTruncation() throws Exception {
    writeKey("alice", ec());
    qf("officers", "register", "--id", "alice", "--scheme", "ecdsa", "--public-key", p("alice.pub"), "--key", p("alice.key")).ok();
    qf("values", "set", "--service", "key-management", "--value", "1").ok();
    assertThat(qf("officers", "list", "--json").ok().json().get("officers")).hasSize(1);
    assertThat(q("officers", "list", "--json").ok().json().get("officers")).as("the token's state is another").isNotEmpty();
    assertThat(qf("audit", "verify").ok().out()).startsWith("audit log verifies: ");

    Path audit = dir.resolve("state").resolve("audit.txt");
    List<String> lines = new ArrayList<>(Files.readAllLines(audit));
    Files.write(audit, lines.subList(0, lines.size() - 1));
    qf("audit", "verify").fails("record " + (lines.size() - 1) + " is missing");

    int victim = 1;
    String[] f = lines.get(victim).split("\t", -1);
    String details = new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8);
    f[3] = Base64.getEncoder().encodeToString((details + " (edited)").getBytes(StandardCharsets.UTF_8));
    lines.set(victim, String.join("\t", f));
    Files.write(audit, lines);
    qf("audit", "verify").fails("audit record 1 of " + lines.size() + " does not verify");

    // The audit key of the file store is private to its owner.
    assertThat(Files.getPosixFilePermissions(dir.resolve("state").resolve(QuorumState.AUDIT_KEY)))
        .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void registrationNeedsTheMatchingPrivateKey() throws Exception {
    writeKey("alice", ec());
    writeKey("mallory", ec());
    qf("officers", "register", "--id", "alice", "--scheme", "ecdsa", "--public-key", p("alice.pub"), "--key", p("mallory.key"))
        .fails("NO_PROOF_OF_POSSESSION");
    qf("officers", "register", "--id", "alice", "--scheme", "ed25519", "--public-key", p("alice.pub"), "--key", p("alice.key"))
        .fails("not a key for ed25519");
    assertThat(qf("officers", "list").ok().out()).startsWith("No officers registered");
    qf("officers", "register", "--challenge", p("none"), "--signature", p("none.sig")).fails("cannot read the challenge file");
    assertThat(Cli.run("quorum").exit()).isEqualTo(2);
  }
}
