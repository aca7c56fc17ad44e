package io.hsmkit.provider.testing;

import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fresh SoftHSM2 token (one per test class, made by softhsm-config/make-token.sh under target/)
 * and an HsmKit provider configured for it by a real configuration file, logged in through
 * {@code pin = env:...}-style configuration or not, as the test asks.
 */
public final class ProviderFixture {
  public final TestToken token;
  public final Path configFile;

  private ProviderFixture(TestToken token, Path configFile) {
    this.token = token;
    this.configFile = configFile;
  }

  /**
   * Makes the token and writes {@code target/tokens/<name>/hsmkit.cfg} with the user PIN in a 0600
   * file next to it; {@code extra} lines are appended to the configuration.
   */
  public static ProviderFixture create(String name, String... extra) {
    TestToken t = TestToken.create(name, name.length() > 32 ? name.substring(0, 32) : name);
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    try {
      Path pinFile = dir.resolve("user.pin");
      Files.writeString(pinFile, new String(t.userPin()));
      pinFile.toFile().setReadable(false, false);
      pinFile.toFile().setReadable(true, true);
      StringBuilder cfg = new StringBuilder();
      cfg.append("library = ").append(t.library()).append('\n');
      cfg.append("tokenLabel = ").append(t.label()).append('\n');
      cfg.append("pin = file:").append(pinFile).append('\n');
      for (String e : extra) {
        cfg.append(e).append('\n');
      }
      Path cfgFile = dir.resolve("hsmkit.cfg");
      Files.writeString(cfgFile, cfg.toString());
      return new ProviderFixture(t, cfgFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A provider logged in with the configured PIN. */
  public HsmKitProvider provider() {
    return new HsmKitProvider(configFile.toString());
  }

  /** Inline configuration without a PIN (log in through login() or the KeyStore). */
  public String inlineConfigWithoutPin() {
    return "--library=" + token.library() + " tokenLabel=" + token.label();
  }
}
