package io.hsmkit.provider.cipher;

import static io.hsmkit.provider.cipher.CipherTestSupport.aes;
import static io.hsmkit.provider.cipher.CipherTestSupport.bytes;
import static io.hsmkit.provider.cipher.CipherTestSupport.inPieces;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** AES/CBC/PKCS5Padding, AES/CBC/NoPadding, AES/CTR/NoPadding and AES/ECB/NoPadding. */
class AesCipherTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext tc;
  static final String[] ALL = {"AES/CBC/PKCS5Padding", "AES/CBC/NoPadding", "AES/CTR/NoPadding", "AES/ECB/NoPadding"};
  static byte[] keyBytes = bytes(16, 3);
  static HsmSecretKey key;
  static SecretKeySpec soft;

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("AesCipherTest");
    p = fx.provider();
    tc = p.tokenContext();
    key = aes(tc, keyBytes);
    soft = new SecretKeySpec(keyBytes, "AES");
  }

  @AfterAll
  static void tearDown() {
    try {
      CipherTestSupport.assertSessionsReturned(tc);
    } finally {
      tc.close();
    }
  }

  private static boolean padded(String t) {
    return t.endsWith("PKCS5Padding");
  }

  private static IvParameterSpec ivFor(String t, int seed) {
    return t.contains("/ECB/") ? null : new IvParameterSpec(bytes(16, seed));
  }

  private static Cipher init(String t, String provider, int mode, int seed) throws Exception {
    Cipher c = provider == null ? Cipher.getInstance(t, p) : Cipher.getInstance(t, provider);
    c.init(mode, provider == null ? key : soft, ivFor(t, seed));
    return c;
  }

  @Test
  void everyModeMatchesSunJceAndRoundTrips() throws Exception {
    for (String t : ALL) {
      for (int len = 0; len <= 50; len++) {
        if (!padded(t) && !t.contains("CTR") && len % 16 != 0) {
          continue;
        }
        byte[] msg = bytes(len, len);
        byte[] ct = init(t, null, Cipher.ENCRYPT_MODE, len).doFinal(msg);
        assertThat(ct).as("%s, %d bytes", t, len).isEqualTo(init(t, "SunJCE", Cipher.ENCRYPT_MODE, len).doFinal(msg));
        assertThat(init(t, null, Cipher.DECRYPT_MODE, len).doFinal(ct)).isEqualTo(msg);
      }
    }
  }

  @Test
  void incrementalUpdatesEqualTheOneShotResult() throws Exception {
    for (String t : ALL) {
      byte[] msg = bytes(t.contains("CTR") || padded(t) ? 3001 : 3008, 1);
      byte[] expected = init(t, "SunJCE", Cipher.ENCRYPT_MODE, 9).doFinal(msg);
      for (int chunk : new int[] {1, 15, 17, 1000}) {
        assertThat(inPieces(init(t, null, Cipher.ENCRYPT_MODE, 9), msg, chunk)).as("%s encrypt, %d-byte pieces", t, chunk).isEqualTo(expected);
        assertThat(inPieces(init(t, null, Cipher.DECRYPT_MODE, 9), expected, chunk)).as("%s decrypt, %d-byte pieces", t, chunk).isEqualTo(msg);
      }
    }
    CipherTestSupport.assertSessionsReturned(tc);
  }

  @Test
  void updateOutputSizesAreExact() throws Exception {
    Cipher c = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 2);
    assertThat(c.update(new byte[15])).isEmpty();
    assertThat(c.getOutputSize(1)).isEqualTo(32);
    assertThat(c.update(new byte[1])).hasSize(16);
    assertThat(c.doFinal()).hasSize(16);
    Cipher d = init("AES/CBC/PKCS5Padding", null, Cipher.DECRYPT_MODE, 2);
    byte[] ct = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 2).doFinal(new byte[32]);
    assertThat(d.update(ct, 0, 32)).hasSize(16); // the last whole block may be padding: held back
    assertThat(d.update(ct, 32, 16)).hasSize(16);
    assertThat(d.doFinal()).isEmpty();
    Cipher ctr = init("AES/CTR/NoPadding", null, Cipher.ENCRYPT_MODE, 2);
    assertThat(ctr.update(new byte[5])).hasSize(5);
    assertThat(ctr.getOutputSize(7)).isEqualTo(7);
  }

  @Test
  void ivs() throws Exception {
    for (String t : new String[] {"AES/CBC/PKCS5Padding", "AES/CBC/NoPadding", "AES/CTR/NoPadding"}) {
      for (int len : new int[] {0, 1, 8, 15, 17}) {
        Cipher c = Cipher.getInstance(t, p);
        assertThatThrownBy(() -> c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(new byte[Math.max(len, 1)], 0, len)))
            .as("%s with a %d-byte IV", t, len).isInstanceOf(InvalidAlgorithmParameterException.class);
      }
      Cipher c = Cipher.getInstance(t, p);
      c.init(Cipher.ENCRYPT_MODE, key);
      byte[] iv = c.getIV();
      assertThat(iv).hasSize(16);
      assertThat(c.getParameters().getParameterSpec(IvParameterSpec.class).getIV()).isEqualTo(iv);
      byte[] ct = c.doFinal(new byte[32]);
      Cipher j = Cipher.getInstance(t, "SunJCE");
      j.init(Cipher.DECRYPT_MODE, soft, new IvParameterSpec(iv));
      assertThat(j.doFinal(ct)).isEqualTo(new byte[32]);
      assertThatThrownBy(() -> Cipher.getInstance(t, p).init(Cipher.DECRYPT_MODE, key)).isInstanceOf(InvalidKeyException.class);
    }
    assertThatThrownBy(() -> Cipher.getInstance("AES/ECB/NoPadding", p).init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(new byte[16])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding", p);
    ecb.init(Cipher.ENCRYPT_MODE, key);
    assertThat(ecb.getIV()).isNull();
  }

  @Test
  void blockSizesAndPadding() throws Exception {
    for (String t : new String[] {"AES/CBC/NoPadding", "AES/ECB/NoPadding"}) {
      assertThatThrownBy(() -> init(t, null, Cipher.ENCRYPT_MODE, 1).doFinal(new byte[15])).isInstanceOf(IllegalBlockSizeException.class);
      assertThatThrownBy(() -> init(t, null, Cipher.DECRYPT_MODE, 1).doFinal(new byte[17])).isInstanceOf(IllegalBlockSizeException.class);
      Cipher c = init(t, null, Cipher.ENCRYPT_MODE, 1);
      c.update(new byte[10]);
      assertThatThrownBy(() -> c.doFinal(new byte[10])).isInstanceOf(IllegalBlockSizeException.class);
      assertThat(c.doFinal(new byte[16])).hasSize(16); // reset after the failure
    }
    assertThatThrownBy(() -> init("AES/CBC/PKCS5Padding", null, Cipher.DECRYPT_MODE, 1).doFinal(new byte[15])).isInstanceOf(IllegalBlockSizeException.class);
    assertThatThrownBy(() -> init("AES/CBC/PKCS5Padding", null, Cipher.DECRYPT_MODE, 1).doFinal(new byte[0])).isInstanceOf(IllegalBlockSizeException.class);
    // A last block that ends in 0x00 is not PKCS#5 padding.
    byte[] badPadding = init("AES/CBC/NoPadding", null, Cipher.ENCRYPT_MODE, 1).doFinal(new byte[32]);
    long discarded = tc.pool().stats().discarded();
    Cipher d = init("AES/CBC/PKCS5Padding", null, Cipher.DECRYPT_MODE, 1);
    assertThatThrownBy(() -> d.doFinal(badPadding)).isInstanceOf(BadPaddingException.class);
    byte[] last = bytes(32, 1);
    last[31] = 17; // a padding length over the block size
    byte[] badLength = init("AES/CBC/NoPadding", null, Cipher.ENCRYPT_MODE, 1).doFinal(last);
    assertThatThrownBy(() -> d.doFinal(badLength)).isInstanceOf(BadPaddingException.class);
    assertThat(tc.pool().stats().discarded()).as("bad padding must not cost a session").isEqualTo(discarded);
    byte[] good = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 1).doFinal(bytes(20, 0));
    assertThat(d.doFinal(good)).isEqualTo(bytes(20, 0));
  }

  @Test
  void shortBuffersLeaveTheStateForARepeatedCall() throws Exception {
    Cipher e = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 4);
    assertThatThrownBy(() -> e.update(new byte[20], 0, 20, new byte[15], 0)).isInstanceOf(ShortBufferException.class);
    byte[] out = new byte[64];
    int n = e.update(new byte[20], 0, 20, out, 0);
    assertThat(n).isEqualTo(16);
    assertThatThrownBy(() -> e.doFinal(new byte[0], 0, 0, new byte[15], 0)).isInstanceOf(ShortBufferException.class);
    n += e.doFinal(new byte[0], 0, 0, out, n);
    assertThat(Arrays.copyOf(out, n)).isEqualTo(init("AES/CBC/PKCS5Padding", "SunJCE", Cipher.ENCRYPT_MODE, 4).doFinal(new byte[20]));
    // Padded decryption: 48 bytes of ciphertext hold 33 bytes of plaintext; 32 bytes of room is
    // enough to try (the plaintext is at least 48 - 16) but too little once it is decrypted.
    byte[] ct = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 4).doFinal(bytes(33, 3));
    Cipher d = init("AES/CBC/PKCS5Padding", null, Cipher.DECRYPT_MODE, 4);
    assertThatThrownBy(() -> d.doFinal(ct, 0, 48, new byte[31], 0)).isInstanceOf(ShortBufferException.class);
    assertThatThrownBy(() -> d.doFinal(ct, 0, 48, new byte[32], 0)).isInstanceOf(ShortBufferException.class);
    byte[] plain = new byte[33];
    assertThat(d.doFinal(ct, 0, 48, plain, 0)).isEqualTo(33);
    assertThat(plain).isEqualTo(bytes(33, 3));
    Cipher ctr = init("AES/CTR/NoPadding", null, Cipher.ENCRYPT_MODE, 4);
    assertThatThrownBy(() -> ctr.doFinal(new byte[10], 0, 10, new byte[9], 0)).isInstanceOf(ShortBufferException.class);
    assertThat(ctr.doFinal(new byte[10], 0, 10, new byte[10], 0)).isEqualTo(10);
  }

  @Test
  void inPlace() throws Exception {
    for (String t : ALL) {
      byte[] msg = bytes(48, 5);
      byte[] expected = init(t, "SunJCE", Cipher.ENCRYPT_MODE, 6).doFinal(msg);
      byte[] buf = Arrays.copyOf(msg, 64);
      Cipher c = init(t, null, Cipher.ENCRYPT_MODE, 6);
      int n = c.update(buf, 0, 20, buf, 0);
      n += c.doFinal(buf, 20, 28, buf, n);
      assertThat(Arrays.copyOf(buf, n)).as(t).isEqualTo(expected);
    }
  }

  /**
   * PKCS5Padding encryption lays the padded plaintext out in the output buffer and encrypts it
   * there: overlapping input and output (both directions), held-back update bytes and sizes on both
   * sides of the binding's 4 KiB stack limit all give SunJCE's ciphertext.
   */
  @Test
  void paddedEncryptionInPlaceWithOverlapAndHeldBytes() throws Exception {
    for (int size : new int[] {0, 1, 15, 16, 17, 1024, 4095, 4096, 4097, 70_001}) {
      for (int shift : new int[] {-16, -3, 0, 5, 16}) {
        for (int first : new int[] {0, 7}) {
          if (first > size) {
            continue;
          }
          byte[] msg = bytes(size, size + shift);
          byte[] expected = init("AES/CBC/PKCS5Padding", "SunJCE", Cipher.ENCRYPT_MODE, 6).doFinal(msg);
          int inOff = 40;
          byte[] buf = new byte[size + 100];
          System.arraycopy(msg, 0, buf, inOff, size);
          Cipher c = init("AES/CBC/PKCS5Padding", null, Cipher.ENCRYPT_MODE, 6);
          int outOff = inOff + shift;
          int n = c.update(buf, inOff, first, buf, outOff);
          n += c.doFinal(buf, inOff + first, size - first, buf, outOff + n);
          assertThat(Arrays.copyOfRange(buf, outOff, outOff + n)).as("size %d shift %d first %d", size, shift, first).isEqualTo(expected);
        }
      }
    }
  }

  @Test
  void ctrWrapsItsCounterAsTheJdkDoes() throws Exception {
    byte[] allOnes = new byte[16];
    Arrays.fill(allOnes, (byte) 0xff);
    byte[] nearlyAllOnes = allOnes.clone();
    nearlyAllOnes[15] = (byte) 0xfe;
    for (byte[] iv : new byte[][] {allOnes, nearlyAllOnes}) {
      byte[] msg = bytes(70, 1);
      Cipher j = Cipher.getInstance("AES/CTR/NoPadding", "SunJCE");
      j.init(Cipher.ENCRYPT_MODE, soft, new IvParameterSpec(iv));
      byte[] expected = j.doFinal(msg);
      Cipher c = Cipher.getInstance("AES/CTR/NoPadding", p);
      c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
      assertThat(c.doFinal(msg)).isEqualTo(expected);
      for (int chunk : new int[] {1, 7, 17}) {
        assertThat(inPieces(c, msg, chunk)).isEqualTo(expected);
      }
    }
  }

  @Test
  void aes192KeysWork() throws Exception {
    byte[] k24 = bytes(24, 9);
    HsmSecretKey key24 = aes(tc, k24);
    assertThat(key24.bits()).isEqualTo(192);
    for (String t : ALL) {
      Cipher c = Cipher.getInstance(t, p);
      c.init(Cipher.ENCRYPT_MODE, key24, ivFor(t, 1));
      Cipher j = Cipher.getInstance(t, "SunJCE");
      j.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k24, "AES"), ivFor(t, 1));
      assertThat(c.doFinal(new byte[32])).as(t).isEqualTo(j.doFinal(new byte[32]));
    }
  }

  @Test
  void wrongKeysAreRefused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    g.initialize(1024);
    HsmPublicKey rsa = KeyImport.publicKey(tc, g.generateKeyPair().getPublic(), KeyTemplates.defaults(tc));
    for (String t : ALL) {
      assertThatThrownBy(() -> Cipher.getInstance(t, p).init(Cipher.ENCRYPT_MODE, rsa, ivFor(t, 1))).as(t).isInstanceOf(InvalidKeyException.class);
      assertThatThrownBy(() -> Cipher.getInstance(t, p).init(Cipher.ENCRYPT_MODE, soft, ivFor(t, 1))).as(t).isInstanceOf(InvalidKeyException.class);
      assertThatThrownBy(() -> Cipher.getInstance(t, p).init(Cipher.WRAP_MODE, key, ivFor(t, 1))).as(t).isInstanceOf(UnsupportedOperationException.class);
    }
  }

  @Test
  void delayedProviderSelection() throws Exception {
    CipherTestSupport.withProviderFirst(p, () -> {
      Cipher forToken = Cipher.getInstance("AES/CBC/PKCS5Padding");
      forToken.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(new byte[16]));
      assertThat(forToken.getProvider()).isSameAs(p);
      Cipher forSoftware = Cipher.getInstance("AES/CBC/PKCS5Padding");
      forSoftware.init(Cipher.ENCRYPT_MODE, soft, new IvParameterSpec(new byte[16]));
      assertThat(forSoftware.getProvider().getName()).isEqualTo("SunJCE");
    });
  }
}
