package io.hsmkit.it.support;

import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A fresh SoftHSM2 token for end-to-end tests, with HsmKit configuration files next to it.
 *
 * <p>{@link #create(String)} makes the token with {@code TestToken} (in {@code
 * target/tokens/<name>}; it also sets SOFTHSM2_CONF in this JVM) and writes:
 *
 * <ul>
 *   <li>{@code user.pin} (0600): the user PIN;
 *   <li>{@code hsmkit.cfg}: {@code library}, {@code tokenLabel}, {@code pin = file:<user.pin>}, so
 *       the provider logs itself in ({@link #config()}, used by {@link #provider()});
 *   <li>{@code hsmkit-nopin.cfg}: the same without {@code pin}, for keytool and jarsigner, which
 *       then log in with {@code -storepass} and refuse a wrong one ({@link #configWithoutPin()}).
 *       With a {@code pin} in the configuration the provider is logged in before keytool's {@code
 *       KeyStore.load}, so a wrong {@code -storepass} is not noticed (as with SunPKCS11).
 * </ul>
 *
 * <p>Child processes must get {@link #env()} (SOFTHSM2_CONF). The PIN is registered as a secret of
 * every runner made here, so it never appears in output or assertion messages.
 */
public final class HsmKitToken {
  /** The provider class named to keytool and jarsigner. */
  public static final String PROVIDER_CLASS = "io.hsmkit.provider.HsmKitProvider";

  private final TestToken token;
  private final Path dir;
  private final Path pinFile;
  private final Path config;
  private final Path configWithoutPin;
  private HsmKitProvider provider;

  private HsmKitToken(TestToken token, Path dir, Path pinFile, Path config, Path configWithoutPin) {
    this.token = token;
    this.dir = dir;
    this.pinFile = pinFile;
    this.config = config;
    this.configWithoutPin = configWithoutPin;
  }

  /** Makes a fresh token labelled {@code name} (at most 32 bytes) in {@code target/tokens/<name>}. */
  public static HsmKitToken create(String name) {
    TestToken t = TestToken.create(name, name.length() > 32 ? name.substring(0, 32) : name);
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    try {
      Path pinFile = dir.resolve("user.pin");
      Files.deleteIfExists(pinFile);
      Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(pinFile, new String(t.userPin()));
      String common = "library = " + t.library() + "\n" + "tokenLabel = \"" + t.label() + "\"\n";
      Path cfg = dir.resolve("hsmkit.cfg");
      Files.writeString(cfg, common + "pin = file:" + pinFile + "\n");
      Path nopin = dir.resolve("hsmkit-nopin.cfg");
      Files.writeString(nopin, common);
      return new HsmKitToken(t, dir, pinFile, cfg, nopin);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The self-contained provider jar (system property {@code hsmkit.provider.jar}), checked to exist. */
  public static Path providerJar() {
    String p = System.getProperty("hsmkit.provider.jar");
    if (p == null || !Files.isRegularFile(Path.of(p))) {
      throw new AssertionError("the provider jar " + p + " is missing: build it with "
          + "`cd <project root> && mvn -q -B -o install -DskipTests -pl pkcs11-binding,provider`");
    }
    return Path.of(p);
  }

  public TestToken testToken() {
    return token;
  }

  /** The token's directory (target/tokens/&lt;name&gt;), a good place for the test's files. */
  public Path dir() {
    return dir;
  }

  public String library() {
    return token.library();
  }

  public String label() {
    return token.label();
  }

  /** The user PIN. Give it to {@link ToolRunner#secret} of any runner not made here. */
  public String pin() {
    return new String(token.userPin());
  }

  /** The 0600 file holding the user PIN (for {@code pin = file:...} or keytool's {@code -storepass:file}). */
  public Path pinFile() {
    return pinFile;
  }

  /** The configuration with {@code pin = file:...}: the provider logs in by itself. */
  public Path config() {
    return config;
  }

  /** The configuration without a PIN: log in with {@code KeyStore.load(null, pin)} or keytool's {@code -storepass}. */
  public Path configWithoutPin() {
    return configWithoutPin;
  }

  /** The environment a child process needs to see this token. */
  public Map<String, String> env() {
    return Map.of("SOFTHSM2_CONF", token.conf());
  }

  /** One provider for in-JVM checks, configured by {@link #config()} (logged in); made on first use. */
  public synchronized HsmKitProvider provider() {
    if (provider == null) {
      provider = new HsmKitProvider(config.toString());
    }
    return provider;
  }

  /** A freshly loaded {@code HsmKit} KeyStore of {@link #provider()} (a new instance: no cached look-ups). */
  public KeyStore keyStore() {
    try {
      KeyStore ks = KeyStore.getInstance("HsmKit", provider());
      ks.load(null, null);
      return ks;
    } catch (KeyStoreException | IOException | NoSuchAlgorithmException | CertificateException e) {
      throw new AssertionError("cannot load the HsmKit KeyStore", e);
    }
  }

  /**
   * keytool's options for this token: {@code -storetype HsmKit -keystore NONE -providerPath <jar>
   * -providerClass io.hsmkit.provider.HsmKitProvider -providerArg <config without pin> -providerName
   * HsmKit -storepass <pin>}. {@code -providerName HsmKit} makes keytool take HsmKit's
   * KeyPairGenerator, so {@code -genkeypair} generates the pair in the token; without it keytool
   * generates in software (SunRsaSign, SunEC) and the KeyStore imports the private key.
   */
  public List<String> keytoolArgs() {
    return List.of("-storetype", "HsmKit", "-keystore", "NONE",
        "-providerPath", providerJar().toString(), "-providerClass", PROVIDER_CLASS, "-providerArg", configWithoutPin.toString(),
        "-providerName", "HsmKit", "-storepass", pin());
  }

  /**
   * jarsigner's options for this token (it has no {@code -providerPath}): {@code -J-cp -J<jar>
   * -providerClass io.hsmkit.provider.HsmKitProvider -providerArg <config without pin> -storetype
   * HsmKit -keystore NONE -storepass <pin>}.
   */
  public List<String> jarsignerArgs() {
    return List.of("-J-cp", "-J" + providerJar(), "-providerClass", PROVIDER_CLASS, "-providerArg", configWithoutPin.toString(),
        "-storetype", "HsmKit", "-keystore", "NONE", "-storepass", pin());
  }

  /** The JDK's keytool with this token's environment, the PIN masked. */
  public ToolRunner keytoolRunner() {
    return ToolRunner.jdk("keytool").env(env()).secret(pin());
  }

  /** The JDK's jarsigner with this token's environment, the PIN masked. */
  public ToolRunner jarsignerRunner() {
    return ToolRunner.jdk("jarsigner").env(env()).secret(pin());
  }

  /** Runs {@code keytool <args> <keytoolArgs()>}. */
  public ToolRunner.Result keytool(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(keytoolArgs());
    return keytoolRunner().run(all);
  }

  /**
   * Runs {@code pkcs11-tool --module <lib> --token-label <label> --login --pin <pin> <args>} with this
   * token's environment (pkcs11-tool comes with OpenSC: apt-get install opensc).
   */
  public ToolRunner.Result pkcs11Tool(String... args) {
    List<String> all = new ArrayList<>(List.of("--module", library(), "--token-label", label(), "--login", "--pin", pin()));
    all.addAll(Arrays.asList(args));
    return ToolRunner.onPath("pkcs11-tool").env(env()).secret(pin()).run(all);
  }
}
