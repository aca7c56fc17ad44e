package io.hsmkit.provider.cipher;

import static io.hsmkit.provider.cipher.CipherTestSupport.aes;
import static io.hsmkit.provider.cipher.CipherTestSupport.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** RSA/ECB/PKCS1Padding, RSA/ECB/NoPadding and RSA-OAEP. */
class RsaCipherTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext tc;
  static KeyPair soft;
  static HsmPrivateKey priv;
  static HsmPublicKey pub;

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("RsaCipherTest");
    p = fx.provider();
    tc = p.tokenContext();
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    g.initialize(2048);
    soft = g.generateKeyPair();
    priv = KeyImport.privateKey(tc, soft.getPrivate(), KeyTemplates.defaults(tc));
    pub = KeyImport.publicKey(tc, soft.getPublic(), KeyTemplates.defaults(tc));
  }

  @AfterAll
  static void tearDown() {
    try {
      CipherTestSupport.assertSessionsReturned(tc);
    } finally {
      tc.close();
    }
  }

  private static OAEPParameterSpec oaep(String hash, String mgfHash, byte[] label) {
    return new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(mgfHash), new PSource.PSpecified(label));
  }

  /** HsmKit encrypts, SunJCE decrypts, and the other way round. */
  private static void interoperates(String transformation, OAEPParameterSpec spec, byte[] msg) throws Exception {
    Cipher h = Cipher.getInstance(transformation, p);
    h.init(Cipher.ENCRYPT_MODE, pub, spec);
    byte[] ct = h.doFinal(msg);
    assertThat(ct).hasSize(256);
    Cipher j = Cipher.getInstance(transformation, "SunJCE");
    j.init(Cipher.DECRYPT_MODE, soft.getPrivate(), spec);
    assertThat(j.doFinal(ct)).as("%s: SunJCE decrypts HsmKit", transformation).isEqualTo(msg);
    j.init(Cipher.ENCRYPT_MODE, soft.getPublic(), spec);
    byte[] ct2 = j.doFinal(msg);
    h.init(Cipher.DECRYPT_MODE, priv, spec);
    assertThat(h.doFinal(ct2)).as("%s: HsmKit decrypts SunJCE", transformation).isEqualTo(msg);
  }

  @Test
  void pkcs1AndNoPaddingInteroperateWithTheJdk() throws Exception {
    for (int len : new int[] {0, 1, 32, 245}) {
      interoperates("RSA/ECB/PKCS1Padding", null, bytes(len, len));
    }
    interoperates("RSA/ECB/NoPadding", null, bytes(256, 0x11));
    Cipher h = Cipher.getInstance("RSA/ECB/NoPadding", p);
    h.init(Cipher.DECRYPT_MODE, priv);
    Cipher j = Cipher.getInstance("RSA/ECB/NoPadding", "SunJCE");
    j.init(Cipher.ENCRYPT_MODE, soft.getPublic());
    byte[] small = j.doFinal(new byte[] {5});
    assertThat(h.doFinal(small)).hasSize(256).endsWith(5).startsWith(0, 0, 0); // a k-byte number, as SunJCE
    Cipher byName = Cipher.getInstance("RSA", p); // SunJCE's default: PKCS1Padding
    byName.init(Cipher.ENCRYPT_MODE, pub);
    j = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
    j.init(Cipher.DECRYPT_MODE, soft.getPrivate());
    assertThat(j.doFinal(byName.doFinal(bytes(10, 1)))).isEqualTo(bytes(10, 1));
  }

  @Test
  void oaepInTheTokenAndInJava() throws Exception {
    // SHA-1/MGF1-SHA-1 without a label runs as CKM_RSA_PKCS_OAEP in SoftHSM2; everything else as
    // raw RSA in the token with OAEP encoding in Java.
    for (String[] hashes : new String[][] {{"SHA-1", "SHA-1"}, {"SHA-256", "SHA-256"}, {"SHA-256", "SHA-1"}, {"SHA-384", "SHA-256"}, {"SHA-512", "SHA-512"}}) {
      for (byte[] label : new byte[][] {new byte[0], bytes(9, 9)}) {
        for (int len : new int[] {0, 1, 62}) {
          interoperates("RSA/ECB/OAEPPadding", oaep(hashes[0], hashes[1], label), bytes(len, len));
        }
      }
    }
    // The longest message: k - 2 hLen - 2.
    interoperates("RSA/ECB/OAEPPadding", oaep("SHA-256", "SHA-256", new byte[0]), bytes(256 - 66, 3));
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
    c.init(Cipher.ENCRYPT_MODE, pub, oaep("SHA-256", "SHA-256", new byte[0]));
    assertThatThrownBy(() -> c.doFinal(new byte[256 - 65])).isInstanceOf(IllegalBlockSizeException.class);
  }

  @Test
  void oaepTransformationNamesMeanWhatTheyMeanInTheJdk() throws Exception {
    // OAEPWith<hash>AndMGF1Padding: that hash, MGF1 with SHA-1, no label (the JDK's reading).
    for (String t : new String[] {"RSA/ECB/OAEPWithSHA-1AndMGF1Padding", "RSA/ECB/OAEPWithSHA-256AndMGF1Padding", "RSA/ECB/OAEPPadding"}) {
      Cipher h = Cipher.getInstance(t, p);
      h.init(Cipher.ENCRYPT_MODE, pub);
      byte[] ct = h.doFinal(bytes(20, 2));
      Cipher j = Cipher.getInstance(t, "SunJCE");
      j.init(Cipher.DECRYPT_MODE, soft.getPrivate());
      assertThat(j.doFinal(ct)).as(t).isEqualTo(bytes(20, 2));
      OAEPParameterSpec params = h.getParameters().getParameterSpec(OAEPParameterSpec.class);
      assertThat(((MGF1ParameterSpec) params.getMGFParameters()).getDigestAlgorithm()).isEqualTo("SHA-1");
    }
    Cipher h = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding", p);
    h.init(Cipher.DECRYPT_MODE, priv, oaep("SHA-256", "SHA-256", new byte[0])); // a spec overrides the name
    Cipher j = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
    j.init(Cipher.ENCRYPT_MODE, soft.getPublic(), oaep("SHA-256", "SHA-256", new byte[0]));
    assertThat(h.doFinal(j.doFinal(bytes(5, 5)))).isEqualTo(bytes(5, 5));
  }

  @Test
  void everyOaepFailureLooksTheSame() throws Exception {
    OAEPParameterSpec spec = oaep("SHA-256", "SHA-256", bytes(4, 4));
    Cipher j = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
    j.init(Cipher.ENCRYPT_MODE, soft.getPublic(), spec);
    byte[] good = j.doFinal(bytes(16, 1));
    List<byte[]> bad = new ArrayList<>();
    byte[] flipped = good.clone();
    flipped[100] ^= 1;
    bad.add(flipped);
    bad.add(new byte[256]); // m = 0
    byte[] n = toBytes(((RSAPublicKey) soft.getPublic()).getModulus());
    bad.add(n); // c = n: not below the modulus
    bad.add(Arrays.copyOf(good, 255)); // too short
    Set<String> messages = new HashSet<>();
    List<OAEPParameterSpec> specs = List.of(spec, oaep("SHA-256", "SHA-256", bytes(4, 5)), oaep("SHA-1", "SHA-1", new byte[0]));
    for (OAEPParameterSpec s : specs) {
      Cipher d = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
      d.init(Cipher.DECRYPT_MODE, priv, s);
      for (byte[] c : s == spec ? bad : List.of(good)) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> d.doFinal(c));
        assertThat(t).isExactlyInstanceOf(BadPaddingException.class);
        assertThat(t.getCause()).isNull();
        messages.add(t.getMessage());
      }
    }
    assertThat(messages).containsExactly("decryption error");
  }

  private static byte[] toBytes(BigInteger v) {
    byte[] b = v.toByteArray();
    return b.length == 257 ? Arrays.copyOfRange(b, 1, 257) : b;
  }

  @Test
  void pkcs1Failures() throws Exception {
    long discarded = tc.pool().stats().discarded();
    Cipher d = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
    d.init(Cipher.DECRYPT_MODE, priv);
    assertThatThrownBy(() -> d.doFinal(new byte[256])).isInstanceOf(BadPaddingException.class);
    assertThatThrownBy(() -> d.doFinal(new byte[257])).isInstanceOf(IllegalBlockSizeException.class);
    assertThat(tc.pool().stats().discarded()).as("bad padding must not cost a session").isEqualTo(discarded);
    Cipher e = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
    e.init(Cipher.ENCRYPT_MODE, pub);
    assertThatThrownBy(() -> e.doFinal(new byte[246])).isInstanceOf(IllegalBlockSizeException.class);
    Cipher raw = Cipher.getInstance("RSA/ECB/NoPadding", p);
    raw.init(Cipher.ENCRYPT_MODE, pub);
    byte[] big = new byte[256];
    Arrays.fill(big, (byte) 0xff);
    assertThatThrownBy(() -> raw.doFinal(big)).isInstanceOf(BadPaddingException.class);
  }

  @Test
  void keys() throws Exception {
    // A software public key given to HsmKit explicitly is imported for the Cipher's life.
    Cipher e = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding", p);
    e.init(Cipher.ENCRYPT_MODE, soft.getPublic());
    byte[] ct = e.doFinal(bytes(7, 7));
    Cipher d = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding", p);
    d.init(Cipher.DECRYPT_MODE, priv);
    assertThat(d.doFinal(ct)).isEqualTo(bytes(7, 7));
    // Decryption takes a private key of this token only.
    assertThatThrownBy(() -> Cipher.getInstance("RSA/ECB/PKCS1Padding", p).init(Cipher.DECRYPT_MODE, soft.getPrivate()))
        .isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> Cipher.getInstance("RSA/ECB/PKCS1Padding", p).init(Cipher.DECRYPT_MODE, pub)).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> Cipher.getInstance("RSA/ECB/PKCS1Padding", p).init(Cipher.ENCRYPT_MODE, priv)).isInstanceOf(InvalidKeyException.class);
    HsmSecretKey aesKey = aes(tc, bytes(16, 1));
    assertThatThrownBy(() -> Cipher.getInstance("RSA/ECB/PKCS1Padding", p).init(Cipher.ENCRYPT_MODE, aesKey)).isInstanceOf(InvalidKeyException.class);
    HsmKitProvider second = fx.provider();
    try {
      assertThatThrownBy(() -> Cipher.getInstance("RSA/ECB/PKCS1Padding", second).init(Cipher.DECRYPT_MODE, priv))
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("another token");
    } finally {
      second.tokenContext().close();
    }
  }

  @Test
  void wrapAndUnwrapSecretKeys() throws Exception {
    byte[] value = bytes(32, 21);
    HsmSecretKey k = KeyImport.secret(tc, value, CKK.AES, "AES", KeyTemplates.defaults(tc).withExtractable(true));
    for (String t : new String[] {"RSA/ECB/PKCS1Padding", "RSA/ECB/OAEPWithSHA-1AndMGF1Padding"}) {
      Cipher w = Cipher.getInstance(t, p);
      w.init(Cipher.WRAP_MODE, pub);
      byte[] wrapped = w.wrap(k); // C_WrapKey: the key is not in the clear here
      Cipher j = Cipher.getInstance(t, "SunJCE");
      j.init(Cipher.UNWRAP_MODE, soft.getPrivate());
      assertThat(j.unwrap(wrapped, "AES", Cipher.SECRET_KEY).getEncoded()).as(t).isEqualTo(value);
      Cipher u = Cipher.getInstance(t, p);
      u.init(Cipher.UNWRAP_MODE, priv);
      HsmSecretKey back = (HsmSecretKey) u.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
      assertThat(back.isSensitive()).isTrue();
      Cipher a = Cipher.getInstance("AES/ECB/NoPadding", p);
      a.init(Cipher.ENCRYPT_MODE, back);
      Cipher s = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
      s.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(value, "AES"));
      assertThat(a.doFinal(new byte[16])).isEqualTo(s.doFinal(new byte[16]));
    }
    // OAEP with SHA-256: SoftHSM2's C_WrapKey refuses, and a token key is not exported in the clear.
    Cipher w = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
    w.init(Cipher.WRAP_MODE, pub, oaep("SHA-256", "SHA-256", new byte[0]));
    assertThatThrownBy(() -> w.wrap(k)).isInstanceOf(InvalidKeyException.class);
    // ... but what the JDK wrapped that way unwraps (decrypted here, then imported).
    Cipher j = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
    j.init(Cipher.WRAP_MODE, soft.getPublic(), oaep("SHA-256", "SHA-256", new byte[0]));
    byte[] wrapped = j.wrap(new SecretKeySpec(value, "AES"));
    Cipher u = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
    u.init(Cipher.UNWRAP_MODE, priv, oaep("SHA-256", "SHA-256", new byte[0]));
    HsmSecretKey back = (HsmSecretKey) u.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
    assertThat(back.bits()).isEqualTo(256);
    assertThatThrownBy(() -> u.unwrap(new byte[256], "AES", Cipher.SECRET_KEY)).isInstanceOf(InvalidKeyException.class);
    // Public keys unwrap as JDK keys.
    Cipher jw = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
    jw.init(Cipher.WRAP_MODE, soft.getPublic());
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(256);
    java.security.PublicKey ecPub = ec.generateKeyPair().getPublic();
    Cipher pu = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
    pu.init(Cipher.UNWRAP_MODE, priv);
    assertThat(pu.unwrap(jw.wrap(ecPub), "EC", Cipher.PUBLIC_KEY)).isEqualTo(ecPub);
  }

  @Test
  void shortBufferAndRepeat() throws Exception {
    Cipher e = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
    e.init(Cipher.ENCRYPT_MODE, pub);
    assertThat(e.getOutputSize(10)).isEqualTo(256);
    assertThatThrownBy(() -> e.doFinal(bytes(10, 0), 0, 10, new byte[255], 0)).isInstanceOf(ShortBufferException.class);
    byte[] ct = new byte[256];
    assertThat(e.doFinal(bytes(10, 0), 0, 10, ct, 0)).isEqualTo(256);
    Cipher d = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
    d.init(Cipher.DECRYPT_MODE, priv);
    d.update(ct, 0, 100);
    assertThatThrownBy(() -> d.doFinal(ct, 100, 156, new byte[9], 0)).isInstanceOf(ShortBufferException.class);
    byte[] plain = new byte[10];
    assertThat(d.doFinal(ct, 100, 156, plain, 0)).isEqualTo(10); // the first 100 bytes were kept
    assertThat(plain).isEqualTo(bytes(10, 0));
  }

  @Test
  void delayedProviderSelection() throws Exception {
    CipherTestSupport.withProviderFirst(p, () -> {
      Cipher forToken = Cipher.getInstance("RSA/ECB/PKCS1Padding");
      forToken.init(Cipher.ENCRYPT_MODE, pub);
      assertThat(forToken.getProvider()).isSameAs(p);
      Cipher forSoftware = Cipher.getInstance("RSA/ECB/PKCS1Padding");
      forSoftware.init(Cipher.ENCRYPT_MODE, soft.getPublic());
      assertThat(forSoftware.getProvider().getName()).isEqualTo("SunJCE");
      Cipher decrypt = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
      decrypt.init(Cipher.DECRYPT_MODE, priv);
      assertThat(decrypt.getProvider()).isSameAs(p);
    });
  }
}
