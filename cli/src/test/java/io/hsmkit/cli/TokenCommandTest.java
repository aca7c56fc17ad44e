package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;

/** hsmkit token init on SoftHSM2's free slot, hsmkit token pin, and their refusals (quorum off: user and token at 1). */
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

  /** Whether {@code pin} logs the user in to token {@code label}: straight through the binding, not through hsmkit. */
  static boolean logsIn(String library, String label, String pin) {
    try (Pkcs11Module m = Pkcs11Module.open(library); Session s = m.slotByTokenLabel(label).orElseThrow().openSession(false)) {
      s.login(CKU.USER, pin.toCharArray());
      s.logout();
      return true;
    } catch (Pkcs11Exception e) {
      if (e.is(CKR.PIN_INCORRECT)) {
        return false;
      }
      throw e;
    }
  }

  private static Path write(String name, String content) throws Exception {
    Path f = cli.dir.resolve(name);
    Files.writeString(f, content);
    return f;
  }

  private static Cli.Run pin(Path current, Path fresh, String... more) {
    java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("token", "pin", "--label", "fresh", "--library",
        cli.token.library(), "--pin-file", current.toString(), "--new-pin-file", fresh.toString()));
    a.addAll(java.util.List.of(more));
    return Cli.run(a.toArray(new String[0]));
  }

  @Test
  @Order(4)
  void pinChangesAndResetsTheUserPin() throws Exception {
    // The token 'fresh' of the tests above, whose user PIN is in userPin; user is at 1: no approval.
    Path changed = write("changed.pin", "changed-8765");
    Cli.Run r = pin(userPin, changed).ok();
    assertThat(r.out()).isEqualTo("changed the user PIN of token 'fresh'\n");
    assertThat(logsIn(cli.token.library(), "fresh", "changed-8765")).isTrue();
    assertThat(logsIn(cli.token.library(), "fresh", "fresh-4321")).isFalse();

    // The old PIN no longer changes it; nothing is changed.
    pin(userPin, changed).fails("wrong current user PIN for token 'fresh' (CKR_PIN_INCORRECT): check --pin-file " + userPin + "; nothing was changed");
    assertThat(logsIn(cli.token.library(), "fresh", "changed-8765")).isTrue();

    // The security officer resets it back; a wrong SO PIN changes nothing.
    Path wrongSo = write("wrong-so-2.pin", "not-the-so-pin");
    pin(changed, userPin, "--reset", "--so-pin-file", wrongSo.toString()).fails("wrong SO PIN (CKR_PIN_INCORRECT): nothing was changed");
    assertThat(logsIn(cli.token.library(), "fresh", "changed-8765")).isTrue();
    JsonNode doc = pin(changed, userPin, "--reset", "--so-pin-file", soPin.toString(), "--json").ok().json();
    assertThat(doc.get("label").asText()).isEqualTo("fresh");
    assertThat(doc.get("by").asText()).isEqualTo("so");
    assertThat(logsIn(cli.token.library(), "fresh", "fresh-4321")).isTrue();
    assertThat(logsIn(cli.token.library(), "fresh", "changed-8765")).isFalse();
    assertThat(Cli.run("keys", "list", "--json", "--config", freshConfig()).ok().json().get("token").asText()).isEqualTo("fresh");
  }

  @Test
  @Order(5)
  void pinRefusals() throws Exception {
    Path tooShort = write("short.pin", "abc");
    Cli.Run r = pin(userPin, tooShort);
    r.fails("the new user PIN is not accepted by token 'fresh': it takes 4 to 255 bytes; nothing was changed");
    assertThat(r.err()).doesNotContain("abc").doesNotContain("fresh-4321");
    assertThat(logsIn(cli.token.library(), "fresh", "fresh-4321")).isTrue();

    pin(userPin, cli.dir.resolve("missing.pin")).fails("cannot read the new user PIN");
    Cli.Run usage = pin(userPin, userPin, "--so-pin-file", soPin.toString());
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("--so-pin-file is for --reset");
    Cli.run("token", "pin", "--label", "no-such-token", "--library", cli.token.library(), "--pin-file", userPin.toString(),
        "--new-pin-file", userPin.toString()).fails("no token labelled 'no-such-token'");
    usage = Cli.run("token", "pin", "--label", "fresh", "--library", cli.token.library(), "--pin-file", userPin.toString());
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("--new-pin-file");
  }
}
