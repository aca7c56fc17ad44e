package io.hsmkit.provider.cipher;

import static io.hsmkit.provider.cipher.CipherTestSupport.aes;
import static io.hsmkit.provider.cipher.CipherTestSupport.bytes;
import static io.hsmkit.provider.cipher.CipherTestSupport.inPieces;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AesGcmCipherTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext tc;
  static byte[] keyBytes = bytes(32, 7);
  static HsmSecretKey key;
  static SecretKeySpec soft;

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("AesGcmCipherTest");
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

  private static Cipher hsm() throws Exception {
    return Cipher.getInstance("AES/GCM/NoPadding", p);
  }

  private static Cipher jdk() throws Exception {
    return Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
  }

  private static GCMParameterSpec spec(int seed) {
    return new GCMParameterSpec(128, bytes(12, seed));
  }

  @Test
  void matchesSunJceAndRoundTrips() throws Exception {
    for (int len : new int[] {0, 1, 15, 16, 17, 100, 4096}) {
      byte[] msg = bytes(len, len);
      byte[] aad = bytes(len % 23, 3);
      Cipher h = hsm();
      h.init(Cipher.ENCRYPT_MODE, key, spec(len));
      h.updateAAD(aad);
      byte[] ct = h.doFinal(msg);
      Cipher j = jdk();
      j.init(Cipher.ENCRYPT_MODE, soft, spec(len));
      j.updateAAD(aad);
      assertThat(ct).as("length %d", len).isEqualTo(j.doFinal(msg));
      h.init(Cipher.DECRYPT_MODE, key, spec(len));
      h.updateAAD(aad);
      assertThat(h.doFinal(ct)).isEqualTo(msg);
    }
  }

  @Test
  void generatesATwelveByteIvFromTheTokenWhenNoneIsGiven() throws Exception {
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key);
    byte[] iv = c.getIV();
    assertThat(iv).hasSize(12);
    GCMParameterSpec params = c.getParameters().getParameterSpec(GCMParameterSpec.class);
    assertThat(params.getIV()).isEqualTo(iv);
    assertThat(params.getTLen()).isEqualTo(128);
    byte[] ct = c.doFinal(bytes(40, 1));
    c.init(Cipher.ENCRYPT_MODE, key);
    assertThat(c.getIV()).isNotEqualTo(iv); // a fresh one each init
    Cipher d = hsm();
    d.init(Cipher.DECRYPT_MODE, key, params);
    assertThat(d.doFinal(ct)).isEqualTo(bytes(40, 1));
    // Decryption cannot invent the IV.
    assertThatThrownBy(() -> hsm().init(Cipher.DECRYPT_MODE, key)).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> hsm().init(Cipher.DECRYPT_MODE, key, (GCMParameterSpec) null)).isInstanceOf(InvalidAlgorithmParameterException.class);
  }

  @Test
  void incrementalUpdatesEqualTheOneShotResult() throws Exception {
    byte[] msg = bytes(3000, 5);
    byte[] aad = bytes(33, 9);
    Cipher one = jdk();
    one.init(Cipher.ENCRYPT_MODE, soft, spec(77));
    one.updateAAD(aad);
    byte[] expected = one.doFinal(msg);
    for (int chunk : new int[] {1, 15, 17, 1000}) {
      Cipher c = hsm(); // a new object per chunk size: the same IV twice in one object is refused
      c.init(Cipher.ENCRYPT_MODE, key, spec(77));
      c.updateAAD(aad, 0, 10);
      c.updateAAD(aad, 10, aad.length - 10);
      assertThat(inPieces(c, msg, chunk)).as("encrypt in %d-byte pieces", chunk).isEqualTo(expected);
      Cipher d = hsm();
      d.init(Cipher.DECRYPT_MODE, key, spec(77));
      d.updateAAD(aad);
      assertThat(inPieces(d, expected, chunk)).as("decrypt in %d-byte pieces", chunk).isEqualTo(msg);
    }
    CipherTestSupport.assertSessionsReturned(tc);
  }

  @Test
  void encryptionStreamsAndDecryptionHoldsPlaintextBackUntilTheTagIsChecked() throws Exception {
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(11));
    assertThat(c.update(bytes(17, 1))).hasSize(17); // streamed through C_EncryptUpdate
    assertThat(tc.pool().stats().borrowed()).isEqualTo(1); // the operation's session
    byte[] tail = c.doFinal(bytes(3, 2));
    assertThat(tail).hasSize(3 + 16);
    assertThat(tc.pool().stats().borrowed()).isZero();
    Cipher d = hsm();
    d.init(Cipher.DECRYPT_MODE, key, spec(11));
    byte[] part = d.update(new byte[40]);
    assertThat(part == null ? 0 : part.length).isZero();
    assertThat(d.getOutputSize(0)).isEqualTo(40 - 16);
  }

  @Test
  void refusesToReuseAnIvForEncryption() throws Exception {
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(21));
    c.doFinal(bytes(10, 0));
    // doFinal used the IV up: the object must be re-initialised, and not with the same IV.
    assertThatThrownBy(() -> c.doFinal(bytes(10, 0))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> c.update(bytes(10, 0))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> c.init(Cipher.ENCRYPT_MODE, key, spec(21)))
        .isInstanceOf(InvalidAlgorithmParameterException.class).hasMessageContaining("Cannot reuse iv for GCM encryption");
    c.init(Cipher.ENCRYPT_MODE, key, spec(22));
    assertThat(c.doFinal(bytes(10, 0))).hasSize(26);
    // Decryption may repeat its parameters.
    Cipher d = hsm();
    Cipher e = hsm();
    e.init(Cipher.ENCRYPT_MODE, key, spec(23));
    byte[] ct = e.doFinal(bytes(5, 5));
    d.init(Cipher.DECRYPT_MODE, key, spec(23));
    assertThat(d.doFinal(ct)).isEqualTo(bytes(5, 5));
    assertThat(d.doFinal(ct)).isEqualTo(bytes(5, 5));
    d.init(Cipher.DECRYPT_MODE, key, spec(23));
    assertThat(d.doFinal(ct)).isEqualTo(bytes(5, 5));
  }

  @Test
  void tagLengthsAreThoseOfTheJdk() throws Exception {
    for (int bits : new int[] {96, 104, 112, 120, 128}) {
      Cipher c = hsm();
      GCMParameterSpec s = new GCMParameterSpec(bits, bytes(12, bits));
      c.init(Cipher.ENCRYPT_MODE, key, s);
      byte[] ct = c.doFinal(bytes(20, 0));
      assertThat(ct).hasSize(20 + bits / 8);
      Cipher j = jdk();
      j.init(Cipher.ENCRYPT_MODE, soft, s);
      assertThat(ct).isEqualTo(j.doFinal(bytes(20, 0)));
      c.init(Cipher.DECRYPT_MODE, key, s);
      assertThat(c.doFinal(ct)).isEqualTo(bytes(20, 0));
    }
    for (int bits : new int[] {0, 32, 64, 88, 100, 136}) {
      assertThatThrownBy(() -> hsm().init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(bits, bytes(12, 1))))
          .as("%d-bit tag", bits).isInstanceOf(InvalidAlgorithmParameterException.class);
    }
  }

  @Test
  void ivLengths() throws Exception {
    assertThatThrownBy(() -> hsm().init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, new byte[0])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    assertThatThrownBy(() -> hsm().init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, new byte[0])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    for (int len : new int[] {1, 8, 16, 60, 128}) {
      GCMParameterSpec s = new GCMParameterSpec(128, bytes(len, 3));
      Cipher c = hsm();
      c.init(Cipher.ENCRYPT_MODE, key, s);
      Cipher j = jdk();
      j.init(Cipher.ENCRYPT_MODE, soft, s);
      assertThat(c.doFinal(bytes(9, 9))).as("%d-byte IV", len).isEqualTo(j.doFinal(bytes(9, 9)));
    }
    // SoftHSM2 2.6.1 computes GCM with a wrong IV beyond 128 bytes; HsmKit refuses rather than lie.
    assertThatThrownBy(() -> hsm().init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, bytes(129, 3))))
        .isInstanceOf(InvalidAlgorithmParameterException.class).hasMessageContaining("128 bytes");
  }

  @Test
  void aBadTagIsAnAeadBadTagExceptionAndCostsNoKey() throws Exception {
    long discardedBefore = tc.pool().stats().discarded();
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(31));
    c.updateAAD(bytes(4, 4));
    byte[] ct = c.doFinal(bytes(50, 50));
    for (int bit : new int[] {0, 8 * 25 + 3, 8 * 50, 8 * 65 + 7}) {
      byte[] bad = ct.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      Cipher d = hsm();
      d.init(Cipher.DECRYPT_MODE, key, spec(31));
      d.updateAAD(bytes(4, 4));
      assertThatThrownBy(() -> d.doFinal(bad)).as("bit %d flipped", bit).isInstanceOf(AEADBadTagException.class);
      // The object is reset, ready for the next message.
      d.updateAAD(bytes(4, 4));
      assertThat(d.doFinal(ct)).isEqualTo(bytes(50, 50));
    }
    Cipher wrongAad = hsm();
    wrongAad.init(Cipher.DECRYPT_MODE, key, spec(31));
    wrongAad.updateAAD(bytes(4, 5));
    assertThatThrownBy(() -> wrongAad.doFinal(ct)).isInstanceOf(AEADBadTagException.class);
    Cipher tooShort = hsm();
    tooShort.init(Cipher.DECRYPT_MODE, key, spec(31));
    assertThatThrownBy(() -> tooShort.doFinal(new byte[15])).isInstanceOf(AEADBadTagException.class);
    // SoftHSM2 says CKR_GENERAL_ERROR for a wrong tag; the session must not be closed over it,
    // because closing it would destroy the session keys created in it.
    assertThat(tc.pool().stats().discarded()).isEqualTo(discardedBefore);
    Cipher again = hsm();
    again.init(Cipher.ENCRYPT_MODE, key, spec(32));
    assertThat(again.doFinal(bytes(3, 3))).hasSize(19);
  }

  @Test
  void shortBuffersAreRefusedBeforeTheTokenAndTheCallCanBeRepeated() throws Exception {
    byte[] msg = bytes(40, 40);
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(41));
    assertThat(c.getOutputSize(40)).isEqualTo(56);
    assertThatThrownBy(() -> c.doFinal(msg, 0, 40, new byte[55], 0)).isInstanceOf(ShortBufferException.class);
    byte[] out = new byte[60];
    int n = c.doFinal(msg, 0, 40, out, 2);
    assertThat(n).isEqualTo(56);
    byte[] ct = Arrays.copyOfRange(out, 2, 58);
    Cipher u = hsm();
    u.init(Cipher.ENCRYPT_MODE, key, spec(42));
    assertThatThrownBy(() -> u.update(msg, 0, 20, new byte[19], 0)).isInstanceOf(ShortBufferException.class);
    u.updateAAD(new byte[0]); // still before any data: the short buffer changed nothing
    Cipher d = hsm();
    d.init(Cipher.DECRYPT_MODE, key, spec(41));
    assertThat(d.getOutputSize(56)).isEqualTo(40);
    assertThatThrownBy(() -> d.doFinal(ct, 0, 56, new byte[39], 0)).isInstanceOf(ShortBufferException.class);
    byte[] plain = new byte[40]; // exactly the plaintext: the token wants more, HsmKit copies
    assertThat(d.doFinal(ct, 0, 56, plain, 0)).isEqualTo(40);
    assertThat(plain).isEqualTo(msg);
    // In place.
    Cipher e = hsm();
    e.init(Cipher.ENCRYPT_MODE, key, spec(43));
    byte[] buf = Arrays.copyOf(msg, 56);
    assertThat(e.doFinal(buf, 0, 40, buf, 0)).isEqualTo(56);
    Cipher j = jdk();
    j.init(Cipher.ENCRYPT_MODE, soft, spec(43));
    assertThat(buf).isEqualTo(j.doFinal(msg));
  }

  @Test
  void byteBuffers() throws Exception {
    byte[] msg = bytes(100, 3);
    byte[] aad = bytes(7, 7);
    Cipher j = jdk();
    j.init(Cipher.ENCRYPT_MODE, soft, spec(81));
    j.updateAAD(aad);
    byte[] expected = j.doFinal(msg);
    for (boolean direct : new boolean[] {false, true}) {
      Cipher c = hsm(); // one object per use of the IV
      c.init(Cipher.ENCRYPT_MODE, key, spec(81));
      c.updateAAD(java.nio.ByteBuffer.wrap(aad));
      java.nio.ByteBuffer in = direct ? java.nio.ByteBuffer.allocateDirect(100).put(msg).flip() : java.nio.ByteBuffer.wrap(msg);
      java.nio.ByteBuffer out = direct ? java.nio.ByteBuffer.allocateDirect(116) : java.nio.ByteBuffer.allocate(116);
      assertThat(c.doFinal(in, out)).isEqualTo(116);
      byte[] got = new byte[116];
      out.flip().get(got);
      assertThat(got).isEqualTo(expected);
      Cipher d = hsm();
      d.init(Cipher.DECRYPT_MODE, key, spec(81));
      d.updateAAD(java.nio.ByteBuffer.wrap(aad));
      java.nio.ByteBuffer plain = java.nio.ByteBuffer.allocate(100);
      assertThat(d.doFinal(java.nio.ByteBuffer.wrap(expected), plain)).isEqualTo(100);
      assertThat(plain.array()).isEqualTo(msg);
    }
  }

  @Test
  void aadMustComeBeforeData() throws Exception {
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(51));
    c.updateAAD(bytes(3, 3));
    c.update(bytes(3, 3));
    assertThatThrownBy(() -> c.updateAAD(bytes(3, 3))).isInstanceOf(IllegalStateException.class);
    Cipher d = hsm();
    d.init(Cipher.DECRYPT_MODE, key, spec(51));
    d.update(new byte[20]);
    assertThatThrownBy(() -> d.updateAAD(bytes(3, 3))).isInstanceOf(IllegalStateException.class);
    c.init(Cipher.ENCRYPT_MODE, key, spec(52)); // re-init ends the half-done encryption and returns its session
    CipherTestSupport.assertSessionsReturned(tc);
  }

  @Test
  void keysThatAreNotAesKeysOfThisTokenAreRefused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    g.initialize(1024);
    HsmPrivateKey rsa = KeyImport.privateKey(tc, g.generateKeyPair().getPrivate(), KeyTemplates.defaults(tc));
    assertThatThrownBy(() -> hsm().init(Cipher.ENCRYPT_MODE, rsa, spec(1))).isInstanceOf(InvalidKeyException.class);
    // A software key named to HsmKit explicitly: refused with a clear message, not imported behind the caller's back.
    assertThatThrownBy(() -> hsm().init(Cipher.ENCRYPT_MODE, soft, spec(1)))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("not an HsmKit key");
    // A second provider on the same token has its own TokenContext: the first one's keys are not its keys.
    HsmKitProvider second = fx.provider();
    try {
      Cipher other = Cipher.getInstance("AES/GCM/NoPadding", second);
      assertThatThrownBy(() -> other.init(Cipher.ENCRYPT_MODE, key, spec(1)))
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("another token");
    } finally {
      second.tokenContext().close();
    }
    assertThatThrownBy(() -> hsm().init(Cipher.WRAP_MODE, key, spec(1))).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void delayedProviderSelectionSendsHsmKeysToHsmKitAndSoftwareKeysToTheJdk() throws Exception {
    CipherTestSupport.withProviderFirst(p, () -> {
      Cipher forToken = Cipher.getInstance("AES/GCM/NoPadding");
      forToken.init(Cipher.ENCRYPT_MODE, key, spec(61));
      assertThat(forToken.getProvider()).isSameAs(p);
      Cipher forSoftware = Cipher.getInstance("AES/GCM/NoPadding");
      forSoftware.init(Cipher.ENCRYPT_MODE, soft, spec(61));
      assertThat(forSoftware.getProvider().getName()).isEqualTo("SunJCE");
      assertThat(forToken.doFinal(bytes(8, 8))).isEqualTo(forSoftware.doFinal(bytes(8, 8)));
    });
  }

  @Test
  void aDroppedHalfDoneEncryptionGivesItsSessionBack() throws Exception {
    dropHalfDone();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (tc.pool().stats().borrowed() != 0 && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(20);
    }
    CipherTestSupport.assertSessionsReturned(tc);
    // And the key (a session object) survived: the session was not closed with its operation running.
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(72));
    assertThat(c.doFinal(bytes(1, 1))).hasSize(17);
  }

  private static void dropHalfDone() throws Exception {
    Cipher c = hsm();
    c.init(Cipher.ENCRYPT_MODE, key, spec(71));
    c.update(bytes(100, 1));
    assertThat(tc.pool().stats().borrowed()).isEqualTo(1);
  }
}
