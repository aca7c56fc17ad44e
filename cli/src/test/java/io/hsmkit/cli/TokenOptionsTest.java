package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.HsmKitConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The default configuration, built from what ./hsmkit exports. */
class TokenOptionsTest {
  @Test
  void theDefaultConfigurationComesFromTheLaunchersEnvironment() {
    String text = TokenOptions.defaultConfig(Map.of("HSMKIT_PKCS11_LIBRARY", "/usr/lib/softhsm/libsofthsm2.so",
        "HSMKIT_TOKEN_LABEL", "my token", "HSMKIT_USER_PIN", "123456"));

    HsmKitConfig c = HsmKitConfig.parse(text);
    assertThat(c.library()).isEqualTo("/usr/lib/softhsm/libsofthsm2.so");
    assertThat(c.tokenLabel()).isEqualTo("my token");
    assertThat(c.hasPin()).isTrue();
    assertThat(text).doesNotContain("123456").contains("pin = env:HSMKIT_USER_PIN");
  }

  @Test
  void withoutTheLauncherItSaysWhatToDo() {
    assertThatThrownBy(() -> TokenOptions.defaultConfig(Map.of()))
        .isInstanceOf(CliException.class).hasMessageContaining("./hsmkit").hasMessageContaining("--config FILE");
    assertThatThrownBy(() -> TokenOptions.defaultConfig(Map.of("HSMKIT_PKCS11_LIBRARY", "/x.so", "HSMKIT_TOKEN_LABEL", "t")))
        .isInstanceOf(CliException.class).hasMessageContaining("HSMKIT_USER_PIN is not set");
  }
}
