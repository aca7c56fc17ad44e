package io.hsmkit.provider.keystore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.AdminGuard;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The KeyStore's AdminGuard hook, with plain lambdas: when it is called, with what, and what a refusal does. */
class AdminGuardTest {
  static ProviderFixture fx;
  static HsmKitProvider p;

  /** What the guard saw: "operation arguments". */
  final List<String> calls = new ArrayList<>();

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("AdminGuardTest");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    p.tokenContext().close();
  }

  @AfterEach
  void reset() {
    p.setAdminGuard(null);
  }

  private AdminGuard recording(boolean allow) {
    return (op, args) -> {
      calls.add(op + " " + args);
      if (!allow) {
        throw new SecurityException("refused " + op + " of " + args.get("alias") + ": 2 approvals missing");
      }
    };
  }

  private static KeyStore store() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, fx.token.userPin());
    return ks;
  }

  /** A token-generated EC key stored as ALIAS with a self-signed certificate (no guard call: not an import). */
  private static void tokenKey(KeyStore ks, String alias) throws Exception {
    KeyPair kp = KeyStoreTest.ec(p);
    X509Certificate c = KeyStoreTest.certificate("CN=" + alias, kp.getPublic(), "CN=" + alias, kp.getPrivate(), p);
    ks.setKeyEntry(alias, kp.getPrivate(), null, new Certificate[] {c});
  }

  @Test
  void theDefaultAllowsEverything() throws Exception {
    assertThat(p.adminGuard()).isSameAs(AdminGuard.ALLOW_ALL);
    KeyStore ks = store();
    tokenKey(ks, "free");
    ks.deleteEntry("free");
    assertThat(ks.containsAlias("free")).isFalse();
  }

  @Test
  void aRefusedDeleteChangesNothingAndCarriesTheRefusal() throws Exception {
    KeyStore ks = store();
    tokenKey(ks, "kept");
    assertThat(calls).as("a key generated in the token is stored without a check").isEmpty();
    p.setAdminGuard(recording(false));
    assertThatThrownBy(() -> ks.deleteEntry("kept"))
        .isInstanceOf(KeyStoreException.class)
        .hasMessage("refused delete-key of kept: 2 approvals missing")
        .hasCauseInstanceOf(SecurityException.class);
    assertThat(calls).containsExactly("delete-key {alias=kept}");
    assertThat(store().containsAlias("kept")).isTrue();
    assertThat(store().getKey("kept", null)).isNotNull();
  }

  @Test
  void anAllowedDeleteRunsOnceAndAnAbsentAliasIsNotChecked() throws Exception {
    KeyStore ks = store();
    tokenKey(ks, "gone");
    p.setAdminGuard(recording(true)); // set after getInstance: still applies
    ks.deleteEntry("gone");
    assertThat(store().containsAlias("gone")).isFalse();
    ks.deleteEntry("never-there");
    assertThat(calls).containsExactly("delete-key {alias=gone}");
  }

  @Test
  void importingASoftwarePrivateKeyIsCheckedWithItsPublicKeyDigest() throws Exception {
    KeyPair soft = KeyStoreTest.ec(java.security.Security.getProvider("SunEC"));
    X509Certificate c = KeyStoreTest.certificate("CN=soft", soft.getPublic(), "CN=soft", soft.getPrivate(),
        java.security.Security.getProvider("SunEC"));
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(soft.getPublic().getEncoded()));
    KeyStore ks = store();
    p.setAdminGuard(recording(false));
    assertThatThrownBy(() -> ks.setKeyEntry("soft", soft.getPrivate(), null, new Certificate[] {c}))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("refused import-key of soft");
    assertThat(store().containsAlias("soft")).isFalse();
    p.setAdminGuard(recording(true));
    ks.setKeyEntry("soft", soft.getPrivate(), null, new Certificate[] {c});
    assertThat(store().containsAlias("soft")).isTrue();
    assertThat(calls).hasSize(2).allMatch(
        s -> s.equals("import-key {algorithm=EC, alias=soft, public-key-sha256=" + digest + ", type=private}"));
  }

  @Test
  void importingASoftwareSecretKeyIsCheckedWithoutItsBytes() throws Exception {
    byte[] raw = new byte[32];
    raw[0] = 0x5a;
    KeyStore ks = store();
    p.setAdminGuard(recording(false));
    assertThatThrownBy(() -> ks.setKeyEntry("aes", new SecretKeySpec(raw, "AES"), null, null))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("refused import-key of aes");
    assertThat(store().containsAlias("aes")).isFalse();
    assertThat(calls).containsExactly("import-key {algorithm=AES, alias=aes, type=secret}");
    assertThat(String.join(" ", calls)).doesNotContain(HexFormat.of().formatHex(raw));
    p.setAdminGuard((op, args) -> assertThat(args).isEqualTo(Map.of("alias", "aes", "type", "secret", "algorithm", "AES")));
    ks.setKeyEntry("aes", new SecretKeySpec(raw, "AES"), null, null);
    assertThat(store().containsAlias("aes")).isTrue();
  }
}
