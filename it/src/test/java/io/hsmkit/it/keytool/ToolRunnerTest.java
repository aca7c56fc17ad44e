package io.hsmkit.it.keytool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.it.support.ToolRunner;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The support the keytool and jarsigner tests stand on: secrets masked, missing tools named with their package. */
class ToolRunnerTest {
  static final String PIN = "s3cret-PIN-4711";

  @Test
  void aSecretIsMaskedInTheCommandTheOutputAndTheFailureMessage() {
    ToolRunner.Result r = ToolRunner.jdk("keytool").secret(PIN).run("-list", "-storepass", PIN, "-no-such-option-" + PIN);
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.commandLine()).doesNotContain(PIN).contains("-storepass " + ToolRunner.MASK);
    assertThat(r.output()).as("keytool echoes the bad option").contains("-no-such-option-" + ToolRunner.MASK).doesNotContain(PIN);
    assertThatThrownBy(r::assertOk).isInstanceOf(AssertionError.class).message().doesNotContain(PIN).contains(ToolRunner.MASK);
  }

  @Test
  void aMissingToolFailsWithTheCommandThatInstallsIt() {
    assertThatThrownBy(() -> ToolRunner.onPath("no-such-tool-hsmkit")).isInstanceOf(AssertionError.class).hasMessageContaining("not installed");
    assertThat(ToolRunner.onPath("pkcs11-tool").executable()).exists(); // apt-get install opensc
  }

  @Test
  void aHangingToolIsKilledAfterTheTimeout() {
    assertThatThrownBy(() -> ToolRunner.onPath("sleep").timeout(Duration.ofMillis(300)).run("30"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("did not finish within");
  }
}
