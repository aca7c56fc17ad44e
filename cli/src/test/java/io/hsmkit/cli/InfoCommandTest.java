package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.testing.TestToken;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runs {@code hsmkit info} through picocli against a real SoftHSM2 token made by make-token.sh. */
class InfoCommandTest {
  private static TestToken token;

  @BeforeAll
  static void token() {
    token = TestToken.create("InfoCommandTest", "cli-info");
  }

  /** Exit code, stdout and stderr of one command. */
  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = HsmkitCommand.commandLine()
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void printsTheLibraryTheTokenAndItsMechanisms() {
    Run r = run("info", "--library", token.library(), "--token-label", token.label());

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("PKCS#11 library  " + token.library())
        .contains("cryptoki version")
        .containsPattern("data path +jni\n")
        .contains("SoftHSM")
        .contains("Token \"cli-info\" in slot " + token.slotId())
        .contains("login_required")
        .containsPattern("(?m)^    CKM_AES_GCM +16\\.\\.32 +encrypt, decrypt")
        .containsPattern("(?m)^    CKM_ECDSA +.*sign, verify");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void withoutALabelShowsEveryToken() {
    Run r = run("info", "--library", token.library(), "--token-label", "");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("\"cli-info\"").contains("not initialized").contains("CKM_AES_GCM");
  }

  @Test
  void neverPrintsAPin() {
    Run r = run("info", "--library", token.library(), "--token-label", token.label());

    assertThat(r.out() + r.err())
        .doesNotContain(new String(token.userPin()))
        .doesNotContain(new String(token.soPin()));
  }

  @Test
  void aMissingLibraryIsOneLineWithTheHint() {
    Run r = run("info", "--library", "/nonexistent/libsofthsm2.so");

    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).startsWith("hsmkit: error: no PKCS#11 library at /nonexistent/libsofthsm2.so")
        .contains("softhsm-config/install.sh");
  }

  @Test
  void verboseAddsTheStackTrace() {
    Run r = run("info", "--verbose", "--library", "/nonexistent/libsofthsm2.so");

    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("softhsm-config/install.sh").contains("\tat io.hsmkit.cli.InfoCommand");
  }

  @Test
  void aFileThatIsNoPkcs11LibraryIsOneLine() {
    Run r = run("info", "--library", token.conf());

    assertThat(r.exit()).isNotZero();
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).startsWith("hsmkit: error: cannot load ").contains(token.conf()).doesNotContain("\tat ");
  }

  @Test
  void anUnknownLabelNamesTheTokensThatExist() {
    Run r = run("info", "--library", token.library(), "--token-label", "no-such-token");

    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).contains("no token labelled 'no-such-token'").contains("'cli-info'");
  }

  @Test
  void noSubcommandPrintsUsage() {
    Run r = run();

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("Usage: hsmkit").contains("info");
  }

  @Test
  void versionNamesTheProjectVersion() {
    Run r = run("--version");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).startsWith("hsmkit ").doesNotContain("unknown").doesNotContain("${");
  }
}
