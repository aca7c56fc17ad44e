package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hsmkit keys list|show|generate|delete|wrap|unwrap against a real SoftHSM2 token. */
class KeysCommandTest {
  private static Cli cli;

  @BeforeAll
  static void token() {
    cli = new Cli("KeysCommandTest", "cli-keys");
    cli.on("keys", "generate", "--alias", "k-ec", "--type", "ec").ok();
    cli.on("keys", "generate", "--alias", "k-rsa", "--type", "rsa", "--subject", "CN=k-rsa, O=Example").ok();
    cli.on("keys", "generate", "--alias", "k-ed", "--type", "ed25519").ok();
  }

  private static JsonNode entry(JsonNode list, String alias) {
    for (JsonNode e : list.get("entries")) {
      if (e.get("alias").asText().equals(alias)) {
        return e;
      }
    }
    return null;
  }

  @Test
  void listShowsEveryKeyAsATable() {
    Cli.Run r = cli.on("keys", "list").ok();

    assertThat(r.out().lines().findFirst().orElseThrow())
        .matches("ALIAS +TYPE +ALGORITHM +SIZE +SENSITIVE +EXTRACTABLE +CERTIFICATE");
    assertThat(r.out())
        .containsPattern("(?m)^k-ec +private-key +EC +secp256r1 +yes +no +yes$")
        .containsPattern("(?m)^k-rsa +private-key +RSA +2048 +yes +no +yes$")
        .containsPattern("(?m)^k-ed +private-key +Ed25519 +255 +yes +no +yes$");
  }

  @Test
  void listJsonParses() {
    JsonNode doc = cli.on("keys", "list", "--json").ok().json();

    assertThat(doc.get("token").asText()).isEqualTo("cli-keys");
    JsonNode ec = entry(doc, "k-ec");
    assertThat(ec.get("type").asText()).isEqualTo("private-key");
    assertThat(ec.get("algorithm").asText()).isEqualTo("EC");
    assertThat(ec.get("size").asInt()).isEqualTo(256);
    assertThat(ec.get("curve").asText()).isEqualTo("secp256r1");
    assertThat(ec.get("sensitive").asBoolean()).isTrue();
    assertThat(ec.get("extractable").asBoolean()).isFalse();
    assertThat(ec.get("certificate").asBoolean()).isTrue();
    assertThat(entry(doc, "k-rsa").get("size").asInt()).isEqualTo(2048);
  }

  @Test
  void showPrintsTheKeyAndItsCertificate() {
    Cli.Run r = cli.on("keys", "show", "k-rsa").ok();

    assertThat(r.out()).containsPattern("(?m)^alias +k-rsa$").containsPattern("(?m)^algorithm +RSA$")
        .contains("Certificate 1 of 1 (leaf)").containsPattern("subject +CN=k-rsa,O=Example")
        .containsPattern("issuer +CN=k-rsa,O=Example").contains("notAfter");

    JsonNode doc = cli.on("keys", "show", "k-ec", "--json").ok().json();
    assertThat(doc.get("alias").asText()).isEqualTo("k-ec");
    assertThat(doc.get("tokenObject").asBoolean()).isTrue();
    assertThat(doc.get("id").asText()).isNotEmpty();
    assertThat(doc.at("/chain/0/subject").asText()).isEqualTo("CN=k-ec");
    assertThat(doc.at("/chain/0/signatureAlgorithm").asText()).isEqualTo("SHA256withECDSA");
  }

  @Test
  void generateWithCurveOrSizeAndJson() {
    JsonNode doc = cli.on("keys", "generate", "--alias", "gen-p384", "--type", "ec", "--curve", "secp384r1", "--json").ok().json();
    assertThat(doc.get("curve").asText()).isEqualTo("secp384r1");
    assertThat(doc.at("/chain/0/signatureAlgorithm").asText()).isEqualTo("SHA384withECDSA");

    Cli.Run r = cli.on("keys", "generate", "--alias", "gen-p521", "--type", "EC", "--size", "521", "--days", "30").ok();
    assertThat(r.out()).startsWith("generated gen-p521: EC secp521r1");
  }

  @Test
  void generateRefusesAnExistingAlias() {
    String before = cli.leafFingerprint("k-ec");
    JsonNode state = cli.state();

    cli.on("keys", "generate", "--alias", "k-ec", "--type", "rsa").fails("an entry k-ec already exists");

    assertThat(cli.state()).isEqualTo(state);
    assertThat(cli.leafFingerprint("k-ec")).isEqualTo(before);
  }

  @Test
  void generateWithAMalformedSubjectChangesNothing() {
    JsonNode state = cli.state();

    cli.on("keys", "generate", "--alias", "bad-subject", "--type", "ec", "--subject", "not a name").fails("malformed subject 'not a name'");

    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void generateBadOptionsAreUsageErrors() {
    JsonNode state = cli.state();

    Cli.Run r = cli.on("keys", "generate", "--alias", "x", "--type", "ed25519", "--size", "256");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--type ed25519 takes neither --size nor --curve");

    r = cli.on("keys", "generate", "--alias", "x", "--type", "dsa");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--type");

    r = cli.on("keys", "generate", "--type", "ec");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--alias");

    cli.on("keys", "generate", "--alias", "x", "--type", "ec", "--curve", "nosuchcurve").fails("cannot generate a ec key");
    cli.on("keys", "generate", "--alias", "x", "--type", "rsa", "--size", "100").fails("cannot generate a rsa key");

    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void deleteRemovesTheEntry() {
    cli.on("keys", "generate", "--alias", "doomed", "--type", "ec").ok();
    assertThat(entry(cli.state(), "doomed")).isNotNull();

    assertThat(cli.on("keys", "delete", "doomed").ok().out()).isEqualTo("deleted doomed\n");

    assertThat(entry(cli.state(), "doomed")).isNull();
    cli.on("keys", "generate", "--alias", "doomed2", "--type", "ec").ok();
    assertThat(cli.on("keys", "delete", "doomed2", "--json").ok().json().get("deleted").asText()).isEqualTo("doomed2");
  }

  @Test
  void anUnknownAliasSaysWhereToLook() {
    JsonNode state = cli.state();

    cli.on("keys", "delete", "no-such-key").fails("no entry no-such-key; see hsmkit keys list");
    cli.on("keys", "show", "no-such-key").fails("no entry no-such-key; see hsmkit keys list");

    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void aWrongPinIsOneLineAndChangesNothing() {
    JsonNode state = cli.state();
    String wrong = cli.writeConfig("wrong-pin.cfg", "000000").toString();

    Cli.Run r = Cli.run("keys", "delete", "k-ec", "--config", wrong);
    r.fails("wrong PIN for token 'cli-keys' (CKR_PIN_INCORRECT)");
    Cli.run("keys", "generate", "--alias", "never", "--type", "ec", "--config", wrong).fails("CKR_PIN_INCORRECT");

    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void aMissingConfigurationIsOneLine() {
    Cli.run("keys", "list", "--config", "/nonexistent/hsmkit.cfg").fails("cannot read the configuration /nonexistent/hsmkit.cfg");
  }

  @Test
  void keysWithoutAVerbPrintsUsage() {
    Cli.Run r = Cli.run("keys");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("Usage: hsmkit keys").contains("generate");
  }

  @Test
  void neverPrintsThePin() {
    Cli.Run r = cli.on("keys", "list", "--json");
    assertThat(r.out() + r.err()).doesNotContain(new String(cli.token.userPin()));
  }

  private static final byte[] IV = new byte[12];
  private static final byte[] MESSAGE = "wrapped and back".getBytes(StandardCharsets.UTF_8);

  /** AES-GCM with the token key {@code alias}, through the HsmKit provider (the key never leaves the token). */
  private static byte[] gcm(int mode, String alias, byte[] in) throws Exception {
    try (Token t = TokenOptions.open(cli.config.toString())) {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding", t.provider);
      c.init(mode, t.key(alias), new GCMParameterSpec(128, IV));
      return c.doFinal(in);
    }
  }

  @Test
  void generateAesWithAndWithoutExtractable() {
    assertThat(cli.on("keys", "generate", "--alias", "aes-default", "--type", "aes").ok().out()).isEqualTo("generated aes-default: AES 256\n");
    assertThat(cli.on("keys", "generate", "--alias", "aes-128x", "--type", "aes", "--size", "128", "--extractable").ok().out())
        .isEqualTo("generated aes-128x: AES 128, extractable (wrapped only)\n");
    assertThat(cli.on("keys", "list").ok().out())
        .containsPattern("(?m)^aes-default +secret-key +AES +256 +yes +no +no$")
        .containsPattern("(?m)^aes-128x +secret-key +AES +128 +yes +yes +no$");
    cli.on("keys", "generate", "--alias", "aes-default", "--type", "aes").fails("an entry aes-default already exists");

    JsonNode state = cli.state();
    for (String[] bad : new String[][] {{"--type", "ec", "--extractable"}, {"--type", "aes", "--size", "100"},
        {"--type", "aes", "--curve", "secp256r1"}, {"--type", "aes", "--subject", "CN=x"}}) {
      String[] args = new String[bad.length + 4];
      args[0] = "keys";
      args[1] = "generate";
      args[2] = "--alias";
      args[3] = "bad-aes";
      System.arraycopy(bad, 0, args, 4, bad.length);
      Cli.Run r = cli.on(args);
      assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(2);
    }
    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void wrapDeleteUnwrapAndUse() throws Exception {
    cli.on("keys", "generate", "--alias", "kek", "--type", "aes").ok();
    cli.on("keys", "generate", "--alias", "dek", "--type", "aes", "--extractable").ok();
    byte[] sealed = gcm(Cipher.ENCRYPT_MODE, "dek", MESSAGE);
    Path file = cli.dir.resolve("dek.wrapped");

    // KWP of a 32-byte key: 40 bytes.
    assertThat(cli.on("keys", "wrap", "dek", "--wrapping-key", "kek", "--out", file.toString()).ok().out())
        .startsWith("wrapped dek under kek with CKM_AES_KEY_WRAP_PAD: 40 bytes to " + file + " (sha256 ");
    assertThat(Files.size(file)).isEqualTo(40);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

    cli.on("keys", "delete", "dek").ok();
    assertThat(entry(cli.state(), "dek")).isNull();

    assertThat(cli.on("keys", "unwrap", "dek", "--wrapping-key", "kek", "--in", file.toString()).ok().out())
        .isEqualTo("unwrapped dek: AES 256 under kek with CKM_AES_KEY_WRAP_PAD (sensitive, not extractable)\n");
    JsonNode dek = entry(cli.state(), "dek");
    assertThat(dek.get("type").asText()).isEqualTo("secret-key");
    assertThat(dek.get("sensitive").asBoolean()).isTrue();
    assertThat(dek.get("extractable").asBoolean()).isFalse();
    // The same key material: what the old key sealed, the unwrapped one opens.
    assertThat(gcm(Cipher.DECRYPT_MODE, "dek", sealed)).isEqualTo(MESSAGE);

    // The unwrapped key is not extractable, so it cannot leave again.
    Files.deleteIfExists(cli.dir.resolve("again.wrapped"));
    cli.on("keys", "wrap", "dek", "--wrapping-key", "kek", "--out", cli.dir.resolve("again.wrapped").toString())
        .fails("cannot wrap dek: it is not extractable (CKA_EXTRACTABLE false, for good)");
    assertThat(Files.exists(cli.dir.resolve("again.wrapped"))).isFalse();

    JsonNode doc = cli.on("keys", "unwrap", "dek-2", "--wrapping-key", "kek", "--in", file.toString(), "--json").ok().json();
    assertThat(doc.get("size").asInt()).isEqualTo(256);
    assertThat(doc.get("mechanism").asText()).isEqualTo("CKM_AES_KEY_WRAP_PAD");
    assertThat(doc.get("wrappedSha256").asText()).hasSize(64);
  }

  @Test
  void wrapAndUnwrapRefusals() throws Exception {
    cli.on("keys", "generate", "--alias", "kek-a", "--type", "aes").ok();
    cli.on("keys", "generate", "--alias", "kek-b", "--type", "aes").ok();
    cli.on("keys", "generate", "--alias", "locked", "--type", "aes").ok();
    cli.on("keys", "generate", "--alias", "free", "--type", "aes", "--size", "128", "--extractable").ok();
    // An extractable key that may be wrapped only under a trusted key: the token itself refuses.
    try (Token t = TokenOptions.open(cli.config.toString())) {
      t.provider.tokenContext().executeForObjects(s -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
          KeyWrapping.secretKeyTemplate("trusted-only", true, Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true))));
    }
    Path file = cli.dir.resolve("free.wrapped");
    cli.on("keys", "wrap", "free", "--wrapping-key", "kek-a", "--out", file.toString()).ok();
    JsonNode state = cli.state();
    String out = cli.dir.resolve("never.wrapped").toString();
    Files.deleteIfExists(Path.of(out)); // the directory outlives the token between runs

    cli.on("keys", "wrap", "locked", "--wrapping-key", "kek-a", "--out", out).fails("cannot wrap locked: it is not extractable");
    cli.on("keys", "wrap", "trusted-only", "--wrapping-key", "kek-a", "--out", out)
        .fails("cannot wrap trusted-only under kek-a: the token refuses (CKR_KEY_NOT_WRAPPABLE): trusted-only may only be wrapped under a trusted key");
    cli.on("keys", "wrap", "k-ec", "--wrapping-key", "kek-a", "--out", out).fails("the key k-ec is a private key entry, not an AES secret key");
    cli.on("keys", "wrap", "free", "--wrapping-key", "k-rsa", "--out", out).fails("the wrapping key k-rsa is a private key entry");
    cli.on("keys", "wrap", "free", "--wrapping-key", "no-such-key", "--out", out).fails("no entry no-such-key; see hsmkit keys list");
    assertThat(Files.exists(Path.of(out))).isFalse();

    // Under the wrong key, or altered by one bit: the token's integrity check refuses it.
    cli.on("keys", "unwrap", "never", "--wrapping-key", "kek-b", "--in", file.toString()).fails("cannot unwrap " + file + " under kek-b: the token refuses (");
    byte[] flipped = Files.readAllBytes(file);
    flipped[3] ^= 1;
    Path altered = cli.dir.resolve("altered.wrapped");
    Files.write(altered, flipped);
    cli.on("keys", "unwrap", "never", "--wrapping-key", "kek-a", "--in", altered.toString()).fails("the token refuses (");
    cli.on("keys", "unwrap", "free", "--wrapping-key", "kek-a", "--in", file.toString()).fails("an entry free already exists");
    Path shortFile = cli.dir.resolve("short.wrapped");
    Files.write(shortFile, new byte[20]);
    cli.on("keys", "unwrap", "never", "--wrapping-key", "kek-a", "--in", shortFile.toString())
        .fails(shortFile + " holds 20 bytes: not a wrapped AES key");
    cli.on("keys", "unwrap", "never", "--wrapping-key", "kek-a", "--in", cli.dir.resolve("missing.wrapped").toString())
        .fails("cannot read the wrapped key file");
    assertThat(cli.state()).isEqualTo(state);

    Cli.Run r = cli.on("keys", "wrap", "free", "--out", out);
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--wrapping-key");
  }
}
