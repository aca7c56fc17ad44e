package io.hsmkit.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.Provider;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.util.ServiceLoader;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.FailedLoginException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProviderBasicsTest {
  static ProviderFixture fx;
  static HsmKitProvider p;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("ProviderBasicsTest");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    p.tokenContext().close();
  }

  @Test
  void isFoundByServiceLoaderAndConfiguresLikeSunPkcs11() {
    Provider unconfigured = ServiceLoader.load(Provider.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.getName().equals("HsmKit")).findFirst().orElseThrow();
    assertThat(unconfigured.isConfigured()).isFalse();
    assertThat(unconfigured.getServices()).isEmpty();
    Provider configured = unconfigured.configure(fx.inlineConfigWithoutPin() + " name=second");
    assertThat(configured.getName()).isEqualTo("HsmKit-second");
    assertThat(configured.isConfigured()).isTrue();
    assertThat(p.getName()).isEqualTo("HsmKit");
  }

  @Test
  void secureRandomComesFromTheToken() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    byte[] a = new byte[32];
    byte[] b = new byte[32];
    r.nextBytes(a);
    r.nextBytes(b);
    assertThat(a).isNotEqualTo(b).isNotEqualTo(new byte[32]);
  }

  @Test
  void aesKeysAreGeneratedSensitiveAndNotExtractable() throws Exception {
    KeyGenerator g = KeyGenerator.getInstance("AES", p);
    g.init(128);
    SecretKey k = g.generateKey();
    assertThat(k).isInstanceOf(HsmSecretKey.class);
    assertThat(k.getEncoded()).isNull();
    assertThat(k.getFormat()).isNull();
    assertThat(((HsmSecretKey) k).isSensitive()).isTrue();
    assertThat(((HsmSecretKey) k).isExtractable()).isFalse();
    // SOFTHSM-NOTES.md says SoftHSM2 has no AES-192; measured here, 2.6.1 generates and uses 24-byte keys.
    g.init(192);
    assertThat(((HsmSecretKey) g.generateKey()).bits()).isEqualTo(192);
    assertThatThrownBy(() -> g.init(100)).isInstanceOf(java.security.InvalidParameterException.class);
  }

  @Test
  void badConfigurationNamesTheLine() {
    assertThatThrownBy(() -> new HsmKitProvider("--library=/x\ntokenLabel=a\nbogus=1"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 3").hasMessageContaining("bogus");
    assertThatThrownBy(() -> new HsmKitProvider("--library=/x maxSessions=zero"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1").hasMessageContaining("maxSessions");
    assertThatThrownBy(() -> new HsmKitProvider("--library=/x pin=123456"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("123456");
    assertThatThrownBy(() -> new HsmKitProvider("--library=" + fx.token.library() + " tokenLabel=nosuchtoken"))
        .isInstanceOf(ProviderException.class).hasMessageContaining("nosuchtoken");
  }
}
