package io.hsmkit.kms.cks;

import io.hsmkit.kms.store.Database;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

/**
 * Tokens for the custom-key-store tests, all in one SoftHSM2 token directory (one SOFTHSM2_CONF
 * per process): "default" (the default store, whose key seals the kmsuser PINs) and one token per
 * cluster, whose user is the kmsuser, with a known SO PIN so a test can reset the kmsuser PIN.
 */
final class CksFixture {
  static final String SO_PIN = "cks-test-so-pin";

  final TestToken token;
  final String library;
  private final List<String> clusterLabels;
  private HsmKitProvider defaultProvider;
  private PinSealer sealer;

  private CksFixture(TestToken token, List<String> clusterLabels) {
    this.token = token;
    this.library = token.library();
    this.clusterLabels = clusterLabels;
  }

  /** The kmsuser PIN a cluster token starts with (and gets back from {@link #resetKmsUser}). */
  static String initialPin(String label) {
    return "kmsuser-" + label;
  }

  /** Makes the tokens; call before anything in this JVM loads the PKCS#11 library. */
  static CksFixture create(String name, String... clusterLabels) {
    TestToken t = TestToken.create(name, "default");
    for (String label : clusterLabels) {
      run(t.conf(), "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", initialPin(label));
    }
    return new CksFixture(t, List.of(clusterLabels));
  }

  /** The cluster id of a token label: {@code cluster-<label>}. */
  static String clusterId(String label) {
    return "cluster-" + label;
  }

  /** Every cluster, on {@code library} (the real one, or the fault shim). */
  Map<String, String> clusters(String library) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String l : clusterLabels) {
      m.put(clusterId(l), config(library, l));
    }
    return m;
  }

  Map<String, String> clusters() {
    return clusters(library);
  }

  static String config(String library, String label) {
    return "--library=" + library + " tokenLabel=" + label;
  }

  /** The default store's provider, logged in. */
  synchronized HsmKitProvider defaultProvider() {
    if (defaultProvider == null) {
      defaultProvider = new HsmKitProvider(config(library, "default"));
      try {
        defaultProvider.login(token.userPin());
      } catch (javax.security.auth.login.LoginException e) {
        throw new IllegalStateException(e);
      }
    }
    return defaultProvider;
  }

  synchronized PinSealer sealer() {
    if (sealer == null) {
      sealer = PinSealer.onBacking(StoreKeyBacking.on(null, defaultProvider()));
    }
    return sealer;
  }

  CustomKeyStores stores(Database db, Clock clock, ToIntFunction<String> keyCount) {
    return new CustomKeyStores(db, clusters(), clock, keyCount, sealer());
  }

  /** Sets the kmsuser PIN of a cluster token as its security officer would (no one may be logged in to it). */
  void resetKmsUser(String label, String pin) {
    try (Pkcs11Module m = Pkcs11Module.open(library)) {
      Slot slot = m.slotByTokenLabel(label).orElseThrow();
      try (Session s = slot.openSession(true)) {
        s.login(CKU.SO, SO_PIN.toCharArray());
        try {
          s.raw().C_InitPIN(s.handle(), pin.toCharArray());
        } finally {
          s.logout();
        }
      }
    }
  }

  /** What a direct C_Login as user with {@code pin} answers: 0 for CKR_OK, else the CKR code. */
  long tryLogin(String label, String pin) {
    try (Pkcs11Module m = Pkcs11Module.open(library)) {
      Slot slot = m.slotByTokenLabel(label).orElseThrow();
      try (Session s = slot.openSession(true)) {
        try {
          // The raw call: Session.login counts CKR_USER_ALREADY_LOGGED_IN as success, which checks no PIN.
          s.raw().C_Login(s.handle(), CKU.USER, pin.toCharArray());
        } catch (Pkcs11Exception e) {
          return e.ckr();
        }
        s.logout();
        return 0;
      }
    }
  }

  static String trustAnchor() {
    try (InputStream in = CksFixture.class.getResourceAsStream("/cks/trust-anchor.pem")) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fault shim built by the binding's tests. */
  static String shimPath() {
    String p = System.getProperty("hsmkit.shim.library");
    if (p == null || p.isBlank()) {
      p = TestToken.rootDir().resolve("pkcs11-binding/target/native/libp11shim.so").toString();
    }
    if (!Files.isRegularFile(Path.of(p))) {
      throw new AssertionError("the fault shim " + p + " is missing: build it with the binding's tests "
          + "(`mvn -B -o -pl kms -am test-compile` compiles pkcs11-binding/src/test/c/p11shim.c)");
    }
    System.setProperty("hsmkit.shim.library", p); // FaultShim.path() reads it
    return p;
  }

  private static void run(String conf, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("SOFTHSM2_CONF", conf);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(cmd[0] + " " + cmd[1] + " failed (run bash softhsm-config/install.sh if SoftHSM2 is missing): "
            + out.replaceAll("(?i)pin\\S*", "***"));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cmd[0] + ": run bash softhsm-config/install.sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A clock the test moves. */
  static final class TestClock extends Clock {
    private volatile Instant now = Instant.parse("2026-11-29T20:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }
}
