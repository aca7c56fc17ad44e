package io.hsmkit.provider.signature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.nio.ByteBuffer;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Security;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HMAC and AES-CMAC in the token: the same tags as SunJCE (HMAC) and RFC 4493 (CMAC) for every
 * way of feeding the data, short HMAC keys refused at init with the token's minimum, keys of the
 * wrong kind refused, software keys handed to SunJCE (also after JCA bound HsmKit before seeing
 * the key, as JSSE's TLS 1.3 HKDF makes it), delayed provider selection, cloning, and no session
 * leaked or thrown away.
 */
class MacTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext ctx;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("MacTest");
    p = fx.provider();
    ctx = p.tokenContext();
  }

  @AfterAll
  static void tearDown() throws Exception {
    System.gc();
    Thread.sleep(200);
    PoolStats st = ctx.pool().stats();
    ctx.close();
    assertThat(st.borrowed()).isZero();
    assertThat(st.leaked()).isZero();
  }

  static HsmSecretKey secret(byte[] value, long ckk, String alg) throws InvalidKeyException {
    return KeyImport.secret(ctx, value, ckk, alg, KeyTemplates.defaults(ctx).withToken(false));
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static void feedOddly(Mac m, byte[] msg) {
    int[] sizes = {1, 5, 64, 3000, 1, 70_001, 17};
    int off = 0;
    for (int i = 0; off < msg.length; i++) {
      int n = Math.min(sizes[i % sizes.length], msg.length - off);
      if (n == 1) {
        m.update(msg[off]);
      } else if (i % 2 == 0) {
        m.update(msg, off, n);
      } else {
        m.update(ByteBuffer.wrap(msg, off, n));
      }
      off += n;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"HmacSHA1", "HmacSHA224", "HmacSHA256", "HmacSHA384", "HmacSHA512"})
  void hmacEqualsSunJce(String name) throws Exception {
    byte[] keyBytes = bytes(64, name.hashCode());
    HsmSecretKey key = secret(keyBytes, CKK.GENERIC_SECRET, name);
    Mac hsm = Mac.getInstance(name, p);
    Mac jdk = Mac.getInstance(name, "SunJCE");
    hsm.init(key);
    jdk.init(new SecretKeySpec(keyBytes, name));
    assertThat(hsm.getMacLength()).isEqualTo(jdk.getMacLength());
    long discarded = ctx.pool().stats().discarded();
    for (int size : new int[] {0, 1, 1000, 65_536, 65_537, 300_000}) {
      byte[] msg = bytes(size, size);
      byte[] expected = jdk.doFinal(msg);
      assertThat(hsm.doFinal(msg)).as(name + " one-shot " + size).isEqualTo(expected);
      feedOddly(hsm, msg);
      assertThat(hsm.doFinal()).as(name + " chunked " + size).isEqualTo(expected);
      // Reset in the middle (streamed or buffered), then again from the start.
      feedOddly(hsm, msg);
      hsm.reset();
      hsm.update(msg);
      assertThat(hsm.doFinal()).isEqualTo(expected);
    }
    assertThat(ctx.pool().stats().borrowed()).isZero();
    assertThat(ctx.pool().stats().discarded()).as("sessions closed because a MAC was left active").isEqualTo(discarded);
  }

  @Test
  void shortHmacKeyIsRefusedWithTheTokensMinimum() throws Exception {
    HsmSecretKey k16 = secret(bytes(16, 1), CKK.GENERIC_SECRET, "HmacSHA256");
    assertThatThrownBy(() -> Mac.getInstance("HmacSHA256", p).init(k16))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("the token needs ≥ 32 bytes");
    assertThatThrownBy(() -> Mac.getInstance("HmacSHA1", p).init(k16))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("the token needs ≥ 20 bytes");
    HsmSecretKey k32 = secret(bytes(32, 2), CKK.GENERIC_SECRET, "HmacSHA256");
    Mac m = Mac.getInstance("HmacSHA256", p);
    m.init(k32);
    assertThat(m.doFinal(new byte[5])).hasSize(32);
    assertThatThrownBy(() -> Mac.getInstance("HmacSHA512", p).init(k32))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("the token needs ≥ 64 bytes");
  }

  @Test
  void aesCmacMatchesRfc4493() throws Exception {
    HexFormat hex = HexFormat.of();
    HsmSecretKey key = secret(hex.parseHex("2b7e151628aed2a6abf7158809cf4f3c"), CKK.AES, "AES");
    byte[] m64 = hex.parseHex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        + "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    String[][] cases = {
        {"0", "bb1d6929e95937287fa37d129b756746"},
        {"16", "070a16b46b4d4144f79bdd9dd04a287c"},
        {"40", "dfa66747de9ae63030ca32611497c827"},
        {"64", "51f0bebf7e3b9d92fc49741779363cfe"}};
    Mac m = Mac.getInstance("AESCMAC", p);
    m.init(key);
    for (String[] c : cases) {
      int n = Integer.parseInt(c[0]);
      m.update(m64, 0, n);
      assertThat(hex.formatHex(m.doFinal())).as("RFC 4493, " + n + " bytes").isEqualTo(c[1]);
    }
    // A key made by HsmKit's AES KeyGenerator can MAC too; chunked equals one-shot.
    KeyGenerator g = KeyGenerator.getInstance("AES", p);
    g.init(256);
    SecretKey gen = g.generateKey();
    Mac c = Mac.getInstance("AES-CMAC", p);
    c.init(gen);
    byte[] msg = bytes(150_000, 3);
    byte[] one = c.doFinal(msg);
    feedOddly(c, msg);
    assertThat(c.doFinal()).isEqualTo(one).hasSize(16);
  }

  @Test
  void wrongKeysAreRefused() throws Exception {
    HsmSecretKey aes = secret(bytes(32, 4), CKK.AES, "AES");
    HsmSecretKey generic = secret(bytes(32, 5), CKK.GENERIC_SECRET, "HmacSHA256");
    assertThatThrownBy(() -> Mac.getInstance("HmacSHA256", p).init(aes)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("CKK_AES");
    assertThatThrownBy(() -> Mac.getInstance("AESCMAC", p).init(generic)).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> Mac.getInstance("AESCMAC", p).init(new SecretKeySpec(bytes(16, 6), "AES")))
        .as("no software AESCMAC in the JDK").isInstanceOf(InvalidKeyException.class).hasMessageContaining("no software AESCMAC");
    assertThatThrownBy(() -> Mac.getInstance("HmacSHA256", p).init(generic, new IvParameterSpec(new byte[16])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    HsmKitProvider second = fx.provider();
    try {
      HsmSecretKey other = KeyImport.secret(second.tokenContext(), bytes(32, 7), CKK.GENERIC_SECRET, "HmacSHA256",
          KeyTemplates.defaults(second.tokenContext()).withToken(false));
      assertThatThrownBy(() -> Mac.getInstance("HmacSHA256", p).init(other))
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("another token");
    } finally {
      second.tokenContext().close();
    }
  }

  @Test
  void softwareKeysAreUsedByTheJdkEvenWhenHsmKitWasBoundFirst() throws Exception {
    byte[] keyBytes = bytes(16, 9); // shorter than the token's minimum: no matter in software
    SecretKeySpec soft = new SecretKeySpec(keyBytes, "HmacSHA256");
    Mac jdk = Mac.getInstance("HmacSHA256", "SunJCE");
    jdk.init(soft);
    byte[] expected = jdk.doFinal(new byte[1000]);
    Mac explicit = Mac.getInstance("HmacSHA256", p);
    explicit.init(soft);
    assertThat(explicit.doFinal(new byte[1000])).isEqualTo(expected);
    Security.insertProviderAt(p, 1);
    try {
      // JSSE's HKDF (TLS 1.3) asks the length before init, which binds the first provider.
      Mac m = Mac.getInstance("HmacSHA256");
      assertThat(m.getMacLength()).isEqualTo(32);
      assertThat(m.getProvider()).isSameAs(p);
      m.init(soft);
      feedOddly(m, new byte[1000]);
      assertThat(m.doFinal()).isEqualTo(expected);
      Mac copy = (Mac) m.clone();
      m.update(new byte[1000]);
      assertThat(m.doFinal()).isEqualTo(expected).isEqualTo(((Mac) copy.clone()).doFinal(new byte[1000]));
    } finally {
      Security.removeProvider(p.getName());
    }
  }

  @Test
  void delayedSelectionAndClone() throws Exception {
    byte[] keyBytes = bytes(32, 8);
    HsmSecretKey key = secret(keyBytes, CKK.GENERIC_SECRET, "HmacSHA256");
    Security.insertProviderAt(p, 1);
    try {
      Mac a = Mac.getInstance("HmacSHA256");
      a.init(key);
      assertThat(a.getProvider()).isSameAs(p);
      Mac b = Mac.getInstance("HmacSHA256");
      b.init(new SecretKeySpec(keyBytes, "HmacSHA256"));
      assertThat(b.getProvider().getName()).isEqualTo("SunJCE");
      Mac o = Mac.getInstance("1.2.840.113549.2.9");
      o.init(key);
      assertThat(o.getProvider()).isSameAs(p);

      a.update(new byte[100]);
      Mac copy = (Mac) a.clone();
      a.update(new byte[1]);
      b.update(new byte[100]);
      assertThat(copy.doFinal()).isEqualTo(b.doFinal());
      a.update(new byte[100_000]); // now streamed: a token session cannot be forked
      assertThatThrownBy(a::clone).isInstanceOf(CloneNotSupportedException.class);
      a.reset();
    } finally {
      Security.removeProvider(p.getName());
    }
  }
}
