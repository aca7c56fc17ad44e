package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The guarded verbs of hsmkit against the quorum state on the token itself (3 officers; key-management,
 * token and, later, user at 2): without an approval refused, with K-1 refused naming what is missing,
 * with 2 of 3 accepted, the same approval replayed refused, an approval for another argument refused.
 * (With a value at 1 the same verbs run without approval: KeysCommandTest, TokenCommandTest.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuorumGuardTest {
  private static Cli cli;
  private static Path dir;
  private static final AtomicInteger REQUESTS = new AtomicInteger();

  @BeforeAll
  static void officers() throws Exception {
    cli = new Cli("QuorumGuardTest", "cli-guard");
    dir = cli.dir;
    for (String id : List.of("alice", "bob", "carol")) {
      writeKey(id);
      q("officers", "register", "--id", id, "--scheme", "ecdsa", "--public-key", p(id + ".pub"), "--key", p(id + ".key")).ok();
    }
    // quorum is still 1: these need no approval.
    q("values", "set", "--service", "key-management", "--value", "2").ok();
    q("values", "set", "--service", "token", "--value", "2").ok();
  }

  /** NAME.key and NAME.pub, a new EC P-256 pair; returns the hex SHA-256 of the public key's X.509 encoding. */
  private static String writeKey(String name) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
    Files.writeString(dir.resolve(name + ".pub"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(kp.getPublic().getEncoded()));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static String p(String name) {
    return dir.resolve(name).toString();
  }

  /** hsmkit quorum ARGS --config (the state on this class's token); sign takes no state. */
  private static Cli.Run q(String... args) {
    List<String> a = new ArrayList<>();
    a.add("quorum");
    a.addAll(List.of(args));
    if (!args[0].equals("sign")) {
      a.add("--config");
      a.add(cli.config.toString());
    }
    return Cli.run(a.toArray(new String[0]));
  }

  /** A token for SERVICE/OPERATION with "name=value" arguments, approved by {@code officers}; its file. */
  private static String approved(String service, String operation, List<String> args, String... officers) {
    String file = p(operation + "-" + REQUESTS.incrementAndGet() + ".token");
    List<String> a = new ArrayList<>(List.of("token", "create", "--service", service, "--operation", operation,
        "--requester", "ops" + REQUESTS.get(), "--out", file));
    for (String arg : args) {
      a.add("--arg");
      a.add(arg);
    }
    q(a.toArray(new String[0])).ok();
    for (String o : officers) {
      approve(file, o);
    }
    return file;
  }

  private static void approve(String token, String officer) {
    String sig = token + "." + officer + ".sig";
    q("sign", "--token", token, "--key", p(officer + ".key"), "--scheme", "ecdsa", "--out", sig).ok();
    q("approve", "--token", token, "--officer", officer, "--signature", sig).ok();
  }

  private static boolean has(String alias) {
    for (com.fasterxml.jackson.databind.JsonNode e : cli.state().get("entries")) {
      if (e.get("alias").asText().equals(alias)) {
        return true;
      }
    }
    return false;
  }

  @Test
  @Order(1)
  void keysDelete() {
    cli.on("keys", "generate", "--alias", "k1", "--type", "ec").ok();
    cli.on("keys", "generate", "--alias", "k2", "--type", "ec").ok();

    // No approval: refused, naming service, operation, how many are missing and how to ask.
    cli.on("keys", "delete", "k1").fails("2 of 3 approvals for key-management/delete-key: have 0; missing 2");
    assertThat(cli.on("keys", "delete", "k1").err())
        .contains("hsmkit quorum token create --service key-management --operation delete-key --arg alias=k1");
    assertThat(has("k1")).isTrue();

    // An approval for k2 does not delete k1.
    String forK2 = approved("key-management", "delete-key", List.of("alias=k2"), "alice", "carol");
    cli.on("keys", "delete", "k1", "--approval", forK2).fails("ACTION_MISMATCH");
    assertThat(has("k1")).isTrue();

    // K-1 approvals: refused, naming who approved and how many are missing; then the second arrives.
    String forK1 = approved("key-management", "delete-key", List.of("alias=k1"), "alice");
    cli.on("keys", "delete", "k1", "--approval", forK1).fails("have 1 (alice); missing 1");
    assertThat(has("k1")).isTrue();
    approve(forK1, "bob");
    assertThat(cli.on("keys", "delete", "k1", "--approval", forK1).ok().out()).isEqualTo("deleted k1\n");
    assertThat(has("k1")).isFalse();

    // Replay: a new k1, the same approval: refused.
    cli.on("keys", "generate", "--alias", "k1", "--type", "ec").ok();
    cli.on("keys", "delete", "k1", "--approval", forK1).fails("ALREADY_USED");
    assertThat(has("k1")).isTrue();

    cli.on("keys", "delete", "k2", "--approval", forK2).ok();
    assertThat(has("k2")).isFalse();
  }

  @Test
  @Order(2)
  void certsImport() {
    cli.on("keys", "generate", "--alias", "web", "--type", "ec").ok();
    cli.on("certs", "export", "web", "--out", p("web.pem")).ok();
    String leaf = cli.leafFingerprint("web");

    cli.on("certs", "import", "web", "--file", p("web.pem")).fails("key-management/import-certificates: have 0; missing 2");
    String other = approved("key-management", "import-certificates", List.of("alias=other", "leaf-sha256=" + leaf), "alice", "bob");
    cli.on("certs", "import", "web", "--file", p("web.pem"), "--approval", other).fails("ACTION_MISMATCH");

    String ok = approved("key-management", "import-certificates", List.of("alias=web", "leaf-sha256=" + leaf), "bob", "carol");
    assertThat(cli.on("certs", "import", "web", "--file", p("web.pem"), "--approval", ok).ok().out()).startsWith("imported 1 certificate for web");
    cli.on("certs", "import", "web", "--file", p("web.pem"), "--approval", ok).fails("ALREADY_USED");
  }

  @Test
  @Order(3)
  void keysWrapAndUnwrap() throws Exception {
    cli.on("keys", "generate", "--alias", "kek", "--type", "aes").ok();
    cli.on("keys", "generate", "--alias", "dek", "--type", "aes", "--extractable").ok();
    String file = p("dek.wrapped");
    Files.deleteIfExists(Path.of(file)); // the directory outlives the token between runs
    List<String> wrap = List.of("keys", "wrap", "dek", "--wrapping-key", "kek", "--out", file);

    cli.on(wrap.toArray(new String[0])).fails("2 of 3 approvals for key-management/wrap-key: have 0; missing 2");
    assertThat(cli.on(wrap.toArray(new String[0])).err())
        .contains("hsmkit quorum token create --service key-management --operation wrap-key --arg alias=dek --arg wrapping-alias=kek");
    String underOther = approved("key-management", "wrap-key", List.of("alias=dek", "wrapping-alias=other"), "alice", "bob");
    cli.on(with(wrap, "--approval", underOther)).fails("ACTION_MISMATCH");
    String half = approved("key-management", "wrap-key", List.of("alias=dek", "wrapping-alias=kek"), "carol");
    cli.on(with(wrap, "--approval", half)).fails("have 1 (carol); missing 1");
    assertThat(Files.exists(Path.of(file))).isFalse();
    approve(half, "alice");
    assertThat(cli.on(with(wrap, "--approval", half)).ok().out()).startsWith("wrapped dek under kek with CKM_AES_KEY_WRAP_PAD: 40 bytes");
    Files.delete(Path.of(file));
    cli.on(with(wrap, "--approval", half)).fails("ALREADY_USED");
    assertThat(Files.exists(Path.of(file))).isFalse();
    cli.on(with(wrap, "--approval", approved("key-management", "wrap-key", List.of("alias=dek", "wrapping-alias=kek"), "bob", "carol"))).ok();

    // Unwrap: bound to the alias, the wrapping key and the exact bytes of the file.
    String sha = KeyWrapping.sha256(Files.readAllBytes(Path.of(file)));
    List<String> unwrap = List.of("keys", "unwrap", "dek2", "--wrapping-key", "kek", "--in", file);
    cli.on(unwrap.toArray(new String[0])).fails("2 of 3 approvals for key-management/import-key: have 0; missing 2");
    assertThat(cli.on(unwrap.toArray(new String[0])).err()).contains("--arg alias=dek2 --arg wrapped-sha256=" + sha + " --arg wrapping-alias=kek");
    String otherBlob = approved("key-management", "import-key", List.of("alias=dek2", "wrapping-alias=kek", "wrapped-sha256=" + "0".repeat(64)),
        "alice", "bob");
    cli.on(with(unwrap, "--approval", otherBlob)).fails("ACTION_MISMATCH");
    String otherAlias = approved("key-management", "import-key", List.of("alias=dek3", "wrapping-alias=kek", "wrapped-sha256=" + sha),
        "alice", "bob");
    cli.on(with(unwrap, "--approval", otherAlias)).fails("ACTION_MISMATCH");
    assertThat(has("dek2")).isFalse();
    String right = approved("key-management", "import-key", List.of("alias=dek2", "wrapping-alias=kek", "wrapped-sha256=" + sha), "alice", "carol");
    assertThat(cli.on(with(unwrap, "--approval", right)).ok().out()).startsWith("unwrapped dek2: AES 256 under kek");
    assertThat(has("dek2")).isTrue();

    // Replay after the key is gone again: refused.
    cli.on("keys", "delete", "dek2", "--approval", approved("key-management", "delete-key", List.of("alias=dek2"), "bob", "carol")).ok();
    cli.on(with(unwrap, "--approval", right)).fails("ALREADY_USED");
    assertThat(has("dek2")).isFalse();
  }

  private static String[] with(List<String> args, String... more) {
    List<String> a = new ArrayList<>(args);
    a.addAll(List.of(more));
    return a.toArray(new String[0]);
  }

  @Test
  @Order(5)
  void tokenPin() throws Exception {
    // user is at 2 (quorumVerbsThatChangeState), with officers alice and bob left.
    Path current = dir.resolve("hsmkit.cfg.pin");
    String oldPin = Files.readString(current);
    Path next = dir.resolve("next.pin");
    Files.writeString(next, "next-pin-5678");
    List<String> change = List.of("token", "pin", "--label", cli.token.label(), "--library", cli.token.library(),
        "--pin-file", current.toString(), "--new-pin-file", next.toString());

    Cli.Run refused = Cli.run(change.toArray(new String[0])).fails("2 of 2 approvals for user/change-pin: have 0; missing 2");
    assertThat(refused.err()).contains("--operation change-pin --arg by=user --arg label=" + cli.token.label() + " --arg role=user")
        .doesNotContain("next-pin-5678").doesNotContain(oldPin);
    Cli.run(with(change, "--approval", approved("user", "change-pin", List.of("label=another", "role=user", "by=user"), "alice", "bob")))
        .fails("ACTION_MISMATCH");
    // An approval for the security officer's reset is not one for the user's change.
    Cli.run(with(change, "--approval", approved("user", "change-pin", List.of("label=" + cli.token.label(), "role=user", "by=so"), "alice", "bob")))
        .fails("ACTION_MISMATCH");
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), oldPin)).isTrue();

    String ok = approved("user", "change-pin", List.of("label=" + cli.token.label(), "role=user", "by=user"), "bob", "alice");
    assertThat(Cli.run(with(change, "--approval", ok)).ok().out()).isEqualTo("changed the user PIN of token '" + cli.token.label() + "'\n");
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), "next-pin-5678")).isTrue();
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), oldPin)).isFalse();
    cli.writeConfig("hsmkit.cfg", "next-pin-5678"); // current now holds the new PIN

    // Replay, with the right current PIN: refused, nothing changed.
    Cli.run(with(change, "--approval", ok)).fails("ALREADY_USED");
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), "next-pin-5678")).isTrue();

    // The security officer's reset: by=so.
    Path so = dir.resolve("so.pin");
    Files.writeString(so, new String(cli.token.soPin()));
    Path reset = dir.resolve("reset.pin");
    Files.writeString(reset, "reset-pin-9012");
    List<String> resetArgs = List.of("token", "pin", "--label", cli.token.label(), "--library", cli.token.library(),
        "--pin-file", current.toString(), "--new-pin-file", reset.toString(), "--reset", "--so-pin-file", so.toString());
    Cli.run(resetArgs.toArray(new String[0])).fails("2 of 2 approvals for user/change-pin: have 0; missing 2");
    Cli.run(with(resetArgs, "--approval", approved("user", "change-pin", List.of("label=" + cli.token.label(), "role=user", "by=user"),
        "alice", "bob"))).fails("ACTION_MISMATCH");
    String bySo = approved("user", "change-pin", List.of("label=" + cli.token.label(), "role=user", "by=so"), "alice", "bob");
    // A wrong SO PIN is found before the approval is spent: the same approval then works.
    Path wrongSo = dir.resolve("wrong-so.pin");
    Files.writeString(wrongSo, "not-the-so-pin");
    List<String> wrongSoArgs = new ArrayList<>(resetArgs);
    wrongSoArgs.set(wrongSoArgs.indexOf(so.toString()), wrongSo.toString());
    Cli.run(with(wrongSoArgs, "--approval", bySo)).fails("wrong SO PIN (CKR_PIN_INCORRECT): nothing was changed");
    assertThat(Cli.run(with(resetArgs, "--approval", bySo)).ok().out()).startsWith("reset the user PIN of token");
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), "reset-pin-9012")).isTrue();
    assertThat(TokenCommandTest.logsIn(cli.token.library(), cli.token.label(), "next-pin-5678")).isFalse();
    cli.writeConfig("hsmkit.cfg", "reset-pin-9012");
    Cli.run(with(resetArgs, "--approval", bySo)).fails("ALREADY_USED");
    assertThat(q("audit", "verify").ok().out()).startsWith("audit log verifies: ");
  }

  @Test
  @Order(4)
  void quorumVerbsThatChangeState() throws Exception {
    // quorum = 2 (quorum is 1 until then), then user = 2 needs a quorum approval.
    q("values", "set", "--service", "quorum", "--value", "2").ok();
    q("values", "set", "--service", "key-management", "--value", "3").fails("2 of 3 approvals for quorum/set-value: have 0; missing 2");
    String km3 = approved("quorum", "set-value", List.of("service=key-management", "value=3"), "alice");
    q("values", "set", "--service", "key-management", "--value", "3", "--approval", km3).fails("have 1 (alice); missing 1");
    q("values", "set", "--service", "key-management", "--value", "2", "--approval", km3).fails("ACTION_MISMATCH");
    approve(km3, "carol");
    q("values", "set", "--service", "key-management", "--value", "3", "--approval", km3).ok();
    q("values", "set", "--service", "key-management", "--value", "3", "--approval", km3).fails("ALREADY_USED");
    String back = approved("quorum", "set-value", List.of("service=key-management", "value=2"), "alice", "bob");
    q("values", "set", "--service", "key-management", "--value", "2", "--approval", back).ok();

    String user2 = approved("quorum", "set-value", List.of("service=user", "value=2"), "alice", "bob");
    q("values", "set", "--service", "user", "--value", "2", "--approval", user2).ok();

    // officers rotate: user/rotate-officer-key officer=ID scheme=JCA-NAME key-sha256=HEX (of the new key).
    String newKey = writeKey("carol2");
    q("officers", "rotate", "--id", "carol", "--scheme", "ecdsa", "--public-key", p("carol2.pub"), "--key", p("carol2.key"))
        .fails("2 of 3 approvals for user/rotate-officer-key: have 0; missing 2");
    List<String> rotation = List.of("officer=carol", "scheme=SHA256withECDSA", "key-sha256=" + newKey);
    String rotateOther = approved("user", "rotate-officer-key", List.of("officer=bob", "scheme=SHA256withECDSA", "key-sha256=" + newKey),
        "alice", "bob");
    q("officers", "rotate", "--id", "carol", "--scheme", "ecdsa", "--public-key", p("carol2.pub"), "--key", p("carol2.key"),
        "--approval", rotateOther).fails("ACTION_MISMATCH");
    String rotate = approved("user", "rotate-officer-key", rotation, "alice", "bob");
    assertThat(q("officers", "rotate", "--id", "carol", "--scheme", "ecdsa", "--public-key", p("carol2.pub"), "--key", p("carol2.key"),
        "--approval", rotate).ok().out()).isEqualTo("rotated officer carol (ecdsa, key-sha256 " + newKey + ")\n");
    q("officers", "rotate", "--id", "carol", "--scheme", "ecdsa", "--public-key", p("carol2.pub"), "--key", p("carol2.key"),
        "--approval", rotate).fails("carol already has this key");
    // The old key no longer signs for carol.
    String stale = approved("user", "deregister-officer", List.of("officer=carol"));
    q("sign", "--token", stale, "--key", p("carol.key"), "--scheme", "ecdsa", "--out", stale + ".old.sig").ok();
    q("approve", "--token", stale, "--officer", "carol", "--signature", stale + ".old.sig").fails("is not carol's ecdsa signature");
    Files.copy(dir.resolve("carol2.key"), dir.resolve("carol.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    // officers remove: user/deregister-officer officer=ID.
    q("officers", "remove", "--id", "carol").fails("2 of 3 approvals for user/deregister-officer: have 0; missing 2");
    String removeBob = approved("user", "deregister-officer", List.of("officer=bob"), "alice", "carol");
    q("officers", "remove", "--id", "carol", "--approval", removeBob).fails("ACTION_MISMATCH");
    String removeCarol = approved("user", "deregister-officer", List.of("officer=carol"), "alice", "bob");
    // 3 officers, every value at most 2: removing one leaves 2, enough.
    q("officers", "remove", "--id", "carol", "--approval", removeCarol).ok();
    q("officers", "remove", "--id", "carol", "--approval", removeCarol).fails("no officer carol");
    assertThat(q("officers", "list", "--json").ok().json().get("officers")).hasSize(2);
    assertThat(q("audit", "verify").ok().out()).startsWith("audit log verifies: ");
  }

  @Test
  @Order(6)
  void tokenReinitialise() throws Exception {
    Path so = dir.resolve("so.pin");
    Files.writeString(so, new String(cli.token.soPin()));
    Path current = dir.resolve("hsmkit.cfg.pin");
    List<String> init = List.of("token", "init", "--label", cli.token.label(), "--library", cli.token.library(),
        "--so-pin-file", so.toString(), "--pin-file", current.toString(), "--current-pin-file", current.toString(), "--force");
    cli.on("keys", "generate", "--alias", "survivor", "--type", "ec").ok();

    Cli.run(init.toArray(new String[0])).fails("2 of 2 approvals for token/reinitialise: have 0; missing 2");
    List<String> wrong = new ArrayList<>(init);
    wrong.addAll(List.of("--approval", approved("token", "reinitialise", List.of("label=another"), "alice", "bob")));
    Cli.run(wrong.toArray(new String[0])).fails("ACTION_MISMATCH");
    assertThat(has("survivor")).isTrue();

    List<String> right = new ArrayList<>(init);
    right.addAll(List.of("--approval", approved("token", "reinitialise", List.of("label=" + cli.token.label()), "bob", "alice")));
    assertThat(Cli.run(right.toArray(new String[0])).ok().out()).startsWith("re-initialised token '" + cli.token.label() + "'");
    assertThat(has("survivor")).isFalse();
    // The quorum state went with the token: no officers, every value 1 again.
    assertThat(q("officers", "list", "--json").ok().json().get("officers")).isEmpty();
    assertThat(q("values", "show", "--json").ok().json().at("/values/token").asInt()).isEqualTo(1);
  }
}
