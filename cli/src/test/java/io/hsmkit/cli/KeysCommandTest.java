package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hsmkit keys list|show|generate|delete against a real SoftHSM2 token. */
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
}
