package io.hsmkit.provider.cipher;

import static io.hsmkit.provider.cipher.CipherTestSupport.aes;
import static io.hsmkit.provider.cipher.CipherTestSupport.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyPairGenerator;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** AESWrap (RFC 3394) and AESWrapPad (RFC 5649). */
class AesWrapCipherTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext tc;
  static byte[] kekBytes = bytes(32, 11);
  static HsmSecretKey kek;
  static SecretKeySpec softKek;

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("AesWrapCipherTest");
    p = fx.provider();
    tc = p.tokenContext();
    kek = aes(tc, kekBytes);
    softKek = new SecretKeySpec(kekBytes, "AES");
  }

  @AfterAll
  static void tearDown() {
    try {
      CipherTestSupport.assertSessionsReturned(tc);
    } finally {
      tc.close();
    }
  }

  private static byte[] jdk(String transformation, int mode, byte[] in) throws Exception {
    Cipher c = Cipher.getInstance(transformation, "SunJCE");
    c.init(mode, softKek);
    return c.doFinal(in);
  }

  /** An AES key in the token that may be wrapped (extractable, still sensitive). */
  private static HsmSecretKey extractable(TokenContext t, byte[] value) throws Exception {
    return KeyImport.secret(t, value, CKK.AES, "AES", KeyTemplates.defaults(t).withExtractable(true));
  }

  @Test
  void anAesKeyMovesBetweenTokensWithoutBeingInTheClear() throws Exception {
    byte[] dataKeyBytes = bytes(32, 5);
    HsmSecretKey dataKey = extractable(tc, dataKeyBytes);
    assertThat(dataKey.getEncoded()).isNull();
    for (String alg : new String[] {"AESWrap", "AESWrapPad"}) {
      Cipher w = Cipher.getInstance(alg, p);
      w.init(Cipher.WRAP_MODE, kek);
      byte[] wrapped = w.wrap(dataKey);
      assertThat(wrapped).as(alg).isEqualTo(jdk(alg.equals("AESWrap") ? "AES/KW/NoPadding" : "AES/KWP/NoPadding", Cipher.ENCRYPT_MODE, dataKeyBytes));

      // "The other token": a second provider with its own TokenContext and its own copy of the KEK.
      HsmKitProvider other = fx.provider();
      try {
        HsmSecretKey otherKek = aes(other.tokenContext(), kekBytes);
        Cipher u = Cipher.getInstance(alg, other);
        u.init(Cipher.UNWRAP_MODE, otherKek);
        Key moved = u.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
        assertThat(moved).isInstanceOf(HsmSecretKey.class);
        HsmSecretKey m = (HsmSecretKey) moved;
        assertThat(m.belongsTo(other.tokenContext())).isTrue();
        assertThat(m.bits()).isEqualTo(256);
        assertThat(m.isSensitive()).isTrue();
        assertThat(m.isExtractable()).isFalse();
        assertThat(m.isTokenObject()).isFalse();
        assertThat(m.getEncoded()).isNull();
        // The unwrapped key encrypts as the original does.
        GCMParameterSpec spec = new GCMParameterSpec(128, bytes(12, alg.length()));
        Cipher a = Cipher.getInstance("AES/GCM/NoPadding", p);
        a.init(Cipher.ENCRYPT_MODE, dataKey, spec);
        Cipher b = Cipher.getInstance("AES/GCM/NoPadding", other);
        b.init(Cipher.ENCRYPT_MODE, m, spec);
        assertThat(b.doFinal(bytes(40, 4))).isEqualTo(a.doFinal(bytes(40, 4)));
        CipherTestSupport.assertSessionsReturned(other.tokenContext());
      } finally {
        other.tokenContext().close();
      }
    }
  }

  @Test
  void unwrapsWhatTheJdkWrapped() throws Exception {
    byte[] value = bytes(16, 77);
    Cipher j = Cipher.getInstance("AES/KWP/NoPadding", "SunJCE");
    j.init(Cipher.WRAP_MODE, softKek);
    byte[] wrapped = j.wrap(new SecretKeySpec(value, "AES"));
    Cipher u = Cipher.getInstance("AES/KWP/NoPadding", p); // SunJCE's name works too
    u.init(Cipher.UNWRAP_MODE, kek);
    HsmSecretKey k = (HsmSecretKey) u.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
    Cipher c = Cipher.getInstance("AES/ECB/NoPadding", p);
    c.init(Cipher.ENCRYPT_MODE, k);
    Cipher s = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
    s.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(value, "AES"));
    assertThat(c.doFinal(new byte[16])).isEqualTo(s.doFinal(new byte[16]));
    // A software key given to wrap is wrapped as its encoding.
    Cipher w = Cipher.getInstance("AESWrap", p);
    w.init(Cipher.WRAP_MODE, kek);
    assertThat(w.wrap(new SecretKeySpec(value, "AES"))).isEqualTo(jdk("AES/KW/NoPadding", Cipher.ENCRYPT_MODE, value));
  }

  @Test
  void rawBytesInEncryptAndDecryptModes() throws Exception {
    for (int len = 1; len <= 40; len++) {
      byte[] msg = bytes(len, len);
      Cipher c = Cipher.getInstance("AESWrapPad", p);
      c.init(Cipher.ENCRYPT_MODE, kek);
      byte[] ct = c.doFinal(msg);
      assertThat(ct).as("RFC 5649, %d bytes", len).isEqualTo(jdk("AES/KWP/NoPadding", Cipher.ENCRYPT_MODE, msg));
      c.init(Cipher.DECRYPT_MODE, kek);
      assertThat(c.doFinal(ct)).isEqualTo(msg);
      Cipher kw = Cipher.getInstance("AESWrap", p);
      kw.init(Cipher.ENCRYPT_MODE, kek);
      if (len >= 16 && len % 8 == 0) {
        byte[] kwCt = kw.doFinal(msg);
        assertThat(kwCt).as("RFC 3394, %d bytes", len).isEqualTo(jdk("AES/KW/NoPadding", Cipher.ENCRYPT_MODE, msg));
        kw.init(Cipher.DECRYPT_MODE, kek);
        assertThat(kw.doFinal(kwCt)).isEqualTo(msg);
      } else {
        // RFC 3394 has no answer for these; SoftHSM2 would silently pad them with zeros.
        assertThatThrownBy(() -> kw.doFinal(msg)).as("RFC 3394, %d bytes", len).isInstanceOf(IllegalBlockSizeException.class);
      }
    }
    // Update keeps the input for doFinal.
    Cipher c = Cipher.getInstance("AESWrap", p);
    c.init(Cipher.ENCRYPT_MODE, kek);
    assertThat(c.update(bytes(16, 1))).isEmpty();
    assertThat(c.doFinal(bytes(8, 2))).hasSize(32);
  }

  @Test
  void tamperedInputFails() throws Exception {
    byte[] ct = jdk("AES/KW/NoPadding", Cipher.ENCRYPT_MODE, bytes(32, 1));
    ct[5] ^= 1;
    long discarded = tc.pool().stats().discarded();
    Cipher d = Cipher.getInstance("AESWrap", p);
    d.init(Cipher.DECRYPT_MODE, kek);
    assertThatThrownBy(() -> d.doFinal(ct)).isInstanceOf(BadPaddingException.class);
    assertThatThrownBy(() -> d.doFinal(new byte[20])).isInstanceOf(IllegalBlockSizeException.class);
    Cipher u = Cipher.getInstance("AESWrap", p);
    u.init(Cipher.UNWRAP_MODE, kek);
    assertThatThrownBy(() -> u.unwrap(ct, "AES", Cipher.SECRET_KEY)).isInstanceOf(InvalidKeyException.class);
    byte[] kwp = jdk("AES/KWP/NoPadding", Cipher.ENCRYPT_MODE, bytes(9, 1));
    kwp[kwp.length - 1] ^= 1;
    Cipher dp = Cipher.getInstance("AESWrapPad", p);
    dp.init(Cipher.DECRYPT_MODE, kek);
    assertThatThrownBy(() -> dp.doFinal(kwp)).isInstanceOf(BadPaddingException.class);
    assertThat(tc.pool().stats().discarded()).as("a failed integrity check must not cost a session").isEqualTo(discarded);
  }

  @Test
  void shortBuffers() throws Exception {
    Cipher c = Cipher.getInstance("AESWrapPad", p);
    c.init(Cipher.ENCRYPT_MODE, kek);
    assertThat(c.getOutputSize(9)).isEqualTo(24);
    assertThatThrownBy(() -> c.doFinal(bytes(9, 0), 0, 9, new byte[23], 0)).isInstanceOf(ShortBufferException.class);
    byte[] out = new byte[24];
    assertThat(c.doFinal(bytes(9, 0), 0, 9, out, 0)).isEqualTo(24);
    c.init(Cipher.DECRYPT_MODE, kek);
    assertThatThrownBy(() -> c.doFinal(out, 0, 24, new byte[8], 0)).isInstanceOf(ShortBufferException.class);
    byte[] plain = new byte[9];
    assertThat(c.doFinal(out, 0, 24, plain, 0)).isEqualTo(9);
    assertThat(plain).isEqualTo(bytes(9, 0));
  }

  @Test
  void whatTheTokenWouldWrapWronglyIsRefused() throws Exception {
    // A 20-byte secret: RFC 3394 cannot wrap it, and SoftHSM2 2.6.1's RFC 5649 wraps it wrongly.
    HsmSecretKey odd = KeyImport.secret(tc, bytes(20, 1), CKK.GENERIC_SECRET, "HmacSHA1", KeyTemplates.defaults(tc).withExtractable(true));
    Cipher kw = Cipher.getInstance("AESWrap", p);
    kw.init(Cipher.WRAP_MODE, kek);
    assertThatThrownBy(() -> kw.wrap(odd)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("multiple of 8");
    Cipher kwp = Cipher.getInstance("AESWrapPad", p);
    kwp.init(Cipher.WRAP_MODE, kek);
    assertThatThrownBy(() -> kwp.wrap(odd)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("wrong");
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    g.initialize(1024);
    HsmPrivateKey rsa = KeyImport.privateKey(tc, g.generateKeyPair().getPrivate(), KeyTemplates.defaults(tc).withExtractable(true));
    assertThatThrownBy(() -> kw.wrap(rsa)).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> kwp.wrap(rsa)).isInstanceOf(InvalidKeyException.class);
    // A key that is not extractable stays in the token.
    HsmSecretKey locked = aes(tc, bytes(16, 2));
    assertThatThrownBy(() -> kw.wrap(locked)).isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void setUpRules() throws Exception {
    assertThatThrownBy(() -> Cipher.getInstance("AESWrap", p).init(Cipher.WRAP_MODE, kek, new IvParameterSpec(new byte[8])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    assertThatThrownBy(() -> Cipher.getInstance("AESWrap", p).init(Cipher.WRAP_MODE, softKek)).isInstanceOf(InvalidKeyException.class);
    Cipher w = Cipher.getInstance("AESWrap", p);
    w.init(Cipher.WRAP_MODE, kek);
    assertThatThrownBy(() -> w.doFinal(new byte[16])).isInstanceOf(IllegalStateException.class);
    CipherTestSupport.withProviderFirst(p, () -> {
      Cipher forToken = Cipher.getInstance("AESWrap");
      forToken.init(Cipher.WRAP_MODE, kek);
      assertThat(forToken.getProvider()).isSameAs(p);
      Cipher forSoftware = Cipher.getInstance("AESWrap");
      forSoftware.init(Cipher.WRAP_MODE, softKek);
      assertThat(forSoftware.getProvider().getName()).isEqualTo("SunJCE");
    });
  }
}
