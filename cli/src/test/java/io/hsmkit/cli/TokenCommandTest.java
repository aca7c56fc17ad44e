package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;

/** hsmkit token init on SoftHSM2's free slot, and its refusals. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TokenCommandTest {
  private static Cli cli;
  private static Path soPin;
  private static Path userPin;

  @BeforeAll
  static void token() throws Exception {
    cli = new Cli("TokenCommandTest", "cli-token");
    cli.on("keys", "generate", "--alias", "keep", "--type", "ec").ok();
    soPin = cli.dir.resolve("so.pin");
    Files.writeString(soPin, new String(cli.token.soPin()));
    userPin = cli.dir.resolve("fresh-user.pin");
    Files.writeString(userPin, "fresh-4321");
  }

  private static String freshConfig() throws Exception {
    Path cfg = cli.dir.resolve("fresh.cfg");
    Files.writeString(cfg, "library = " + cli.token.library() + "\ntokenLabel = fresh\npin = file:" + userPin + "\n");
    return cfg.toString();
  }

  @Test
  @Order(1)
  void initialisesAFreeTokenWithItsUserPin() throws Exception {
    Cli.Run r = Cli.run("token", "init", "--label", "fresh", "--library", cli.token.library(),
        "--so-pin-file", soPin.toString(), "--pin-file", userPin.toString()).ok();
    assertThat(r.out()).startsWith("initialised token 'fresh' in slot ");

    JsonNode list = Cli.run("keys", "list", "--json", "--config", freshConfig()).ok().json();
    assertThat(list.get("token").asText()).isEqualTo("fresh");
    assertThat(list.get("entries")).isEmpty();
    Cli.run("keys", "generate", "--alias", "new", "--type", "ec", "--config", freshConfig()).ok();
  }

  @Test
  @Order(2)
  void anExistingTokenNeedsForceAndTheRightSoPin() throws Exception {
    JsonNode state = cli.state();

    Cli.run("token", "init", "--label", "cli-token", "--library", cli.token.library(), "--so-pin-file", soPin.toString(),
        "--pin-file", userPin.toString()).fails("a token labelled 'cli-token' exists");
    Path wrong = cli.dir.resolve("wrong-so.pin");
    Files.writeString(wrong, "wrong-so-pin");
    Cli.run("token", "init", "--label", "cli-token", "--library", cli.token.library(), "--so-pin-file", wrong.toString(),
        "--pin-file", userPin.toString(), "--force", "--current-pin-file", cli.dir.resolve("hsmkit.cfg.pin").toString()).fails("wrong SO PIN (CKR_PIN_INCORRECT): nothing was changed");

    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  @Order(3)
  void forceReinitialisesAndErasesTheToken() throws Exception {
    assertThat(Cli.run("keys", "list", "--json", "--config", freshConfig()).ok().json().get("entries")).hasSize(1);

    JsonNode doc = Cli.run("token", "init", "--label", "fresh", "--library", cli.token.library(), "--so-pin-file", soPin.toString(),
        "--pin-file", userPin.toString(), "--force", "--current-pin-file", userPin.toString(), "--json").ok().json();
    assertThat(doc.get("reinitialised").asBoolean()).isTrue();

    assertThat(Cli.run("keys", "list", "--json", "--config", freshConfig()).ok().json().get("entries")).isEmpty();
  }

  @Test
  void badUsage() {
    Cli.Run r = Cli.run("token", "init", "--label", "x".repeat(33), "--library", cli.token.library());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("at most 32 bytes");
    Cli.run("token", "init", "--label", "y", "--library", "/nonexistent.so").fails("no PKCS#11 library at /nonexistent.so");
  }
}
