package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.provider.ClusterOperationException;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.security.SecureRandom;
import java.time.Duration;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster of c alone (behind the fault shim, minReplicas 1): when no member is left, a multi-part
 * AES/CBC operation and an unwrap (which makes a replicated key) fail after the retry budget with
 * {@link ClusterOperationException} naming c and its error; both work again once c is back.
 */
class ClusterOnlyMemberCiphersTest {
  static ClusterProviderFixture fx;
  static HsmKitProvider p;

  @BeforeAll
  static void open() {
    fx = ClusterProviderFixture.onlyC("cluster-jca-only-c-ciphers");
    p = fx.provider();
  }

  @AfterAll
  static void close() {
    fx.shim.clear();
    if (p != null) {
      p.tokenContext().close();
    }
    fx.close();
  }

  static void cBack() throws InterruptedException {
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15),
        () -> p.tokenContext().cluster().member("c").health() == MemberHealth.HEALTHY);
  }

  @Test
  void aMultiPartCipherAndAnUnwrapFailTypedWhenNoMemberIsLeft() throws Exception {
    SecureRandom rnd = new SecureRandom();
    byte[] value = new byte[32];
    rnd.nextBytes(value);
    SecretKey key = SecretKeyFactory.getInstance("AES", p).generateSecret(new SecretKeySpec(value, "AES"));
    IvParameterSpec iv = new IvParameterSpec(new byte[16]);
    byte[] pt = new byte[64];
    rnd.nextBytes(pt);
    Cipher ref = Cipher.getInstance("AES/CBC/PKCS5Padding", "SunJCE");
    ref.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(value, "AES"), iv);
    byte[] expected = ref.doFinal(pt);

    Cipher cbc = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
    cbc.init(Cipher.ENCRYPT_MODE, key, iv);
    byte[] first = cbc.update(pt, 0, 32);
    assertThat(first).hasSize(32);
    fx.shim.rules("absent");
    assertThatThrownBy(() -> cbc.update(pt, 32, 32)).isInstanceOfSatisfying(ClusterOperationException.class, e -> {
      assertThat(e.membersTried()).containsExactly("c");
      assertThat(e.getMessage()).contains("c: C_").contains("CKR_");
    });

    Cipher wrap = Cipher.getInstance("AESWrap", "SunJCE");
    wrap.init(Cipher.WRAP_MODE, new SecretKeySpec(value, "AES"));
    byte[] wrapped = wrap.wrap(new SecretKeySpec(new byte[16], "AES"));
    Cipher unwrap = Cipher.getInstance("AESWrap", p);
    unwrap.init(Cipher.UNWRAP_MODE, key);
    assertThatThrownBy(() -> unwrap.unwrap(wrapped, "AES", Cipher.SECRET_KEY)).isInstanceOfSatisfying(ClusterOperationException.class,
        e -> assertThat(e.getMessage()).contains("AESWrap unwrap").contains("no healthy member"));

    cBack();
    // the failed update restarted the cipher from its IV: the whole message again gives SunJCE's result
    assertThat(cbc.doFinal(pt)).isEqualTo(expected);
    assertThat(unwrap.unwrap(wrapped, "AES", Cipher.SECRET_KEY)).isNotNull();
  }
}
