package io.hsmkit.provider.perf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The exact number of PKCS#11 calls each hot JCA operation makes, counted by the fault shim that
 * sits between HsmKit and SoftHSM2: the speed goal of issue 3 is mostly a matter of native
 * crossings per operation, and these counts are the part of it that does not move with the load of
 * the machine. Also the buffered SecureRandom's contract: small requests share one C_GenerateRandom
 * per {@code 1024} bytes once an instance is in use (its refills grow from 64 bytes, so an instance
 * made for one request costs one small call), no byte is handed out twice (also to concurrent callers), large requests
 * and seeds go straight to the token, and setSeed reaches C_SeedRandom and drops the buffer.
 */
class NativeCallCountTest {
  static TestToken token;
  static FaultShim shim;
  static HsmKitProvider p;

  @BeforeAll
  static void setUp() throws IOException {
    token = TestToken.create("NativeCallCountTest", "NativeCallCountTest");
    shim = FaultShim.forLibrary(token.library());
    Path dir = TestToken.buildDir().resolve("tokens").resolve("NativeCallCountTest");
    Path pinFile = dir.resolve("user.pin");
    Files.writeString(pinFile, new String(token.userPin()));
    Path cfg = dir.resolve("hsmkit-shim.cfg");
    Files.writeString(cfg, "library = " + FaultShim.path() + "\ntokenLabel = " + token.label() + "\npin = file:" + pinFile + "\n");
    p = new HsmKitProvider(cfg.toString());
  }

  @AfterAll
  static void tearDown() {
    if (p != null) {
      p.tokenContext().close();
    }
  }

  @BeforeEach
  void clearRules() {
    shim.clear();
  }

  /** Runs {@code op} {@code n} times after one warm-up call and returns the calls of each function named. */
  private static long[] count(int n, ThrowingRunnable op, String... functions) throws Exception {
    op.run(); // first use: key look-ups, pool growth, mechanism probes
    shim.resetCounters();
    for (int i = 0; i < n; i++) {
      op.run();
    }
    long[] c = new long[functions.length + 1];
    for (int i = 0; i < functions.length; i++) {
      c[i] = shim.calls(functions[i]);
    }
    c[functions.length] = shim.calls("*");
    return c;
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }

  // ------------------------------------------------------------------ one-shot operations: 2 calls each

  @Test
  void gcmEncryptIsOneInitAndOneEncrypt() throws Exception {
    SecretKey k = aes();
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
    byte[] iv = new byte[12];
    long[] counter = {0};
    long[] n = count(100, () -> {
      iv[0] = (byte) counter[0];
      iv[1] = (byte) (counter[0]++ >> 8);
      c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, iv));
      assertThat(c.doFinal(new byte[1024])).hasSize(1040);
    }, "C_EncryptInit", "C_Encrypt");
    assertThat(n).containsExactly(100, 100, 200);
  }

  @ParameterizedTest(name = "{0} {1} bytes")
  @CsvSource({"AES/CBC/PKCS5Padding, 1024, 1040", "AES/CBC/PKCS5Padding, 1000, 1008", "AES/CBC/NoPadding, 1024, 1024",
      "AES/CTR/NoPadding, 1024, 1024", "AES/ECB/NoPadding, 1024, 1024"})
  void aesDoFinalIsOneInitAndOneEncrypt(String transformation, int in, int out) throws Exception {
    SecretKey k = aes();
    Cipher c = Cipher.getInstance(transformation, p);
    if (transformation.contains("ECB")) {
      c.init(Cipher.ENCRYPT_MODE, k);
    } else {
      c.init(Cipher.ENCRYPT_MODE, k, new IvParameterSpec(new byte[16]));
    }
    long[] n = count(50, () -> assertThat(c.doFinal(new byte[in])).hasSize(out), "C_EncryptInit", "C_Encrypt");
    assertThat(n).containsExactly(50, 50, 100);
  }

  /** PKCS5Padding encryption pads in the caller's buffer: a token failure must not leave the plaintext there. */
  @ParameterizedTest(name = "{0} bytes")
  @CsvSource({"1000", "70000"})
  void aFailedPaddedEncryptionLeavesNoPlaintextInTheOutput(int size) throws Exception {
    SecretKey k = aes();
    Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
    c.init(Cipher.ENCRYPT_MODE, k, new IvParameterSpec(new byte[16]));
    byte[] pt = new byte[size];
    Arrays.fill(pt, (byte) 0x41);
    byte[] out = new byte[size + 16];
    shim.rules("C_Encrypt:rv=CKR_DEVICE_ERROR");
    assertThatThrownBy(() -> c.doFinal(pt, 0, size, out, 0)).isInstanceOf(ProviderException.class);
    shim.clear();
    assertThat(out).containsOnly(0);
    assertThat(c.doFinal(pt, 0, size, out, 0)).isEqualTo((size / 16 + 1) * 16);
  }

  @Test
  void hmacIsOneInitAndOneSign() throws Exception {
    KeyGenerator g = KeyGenerator.getInstance("HmacSHA256", p);
    g.init(256);
    Mac m = Mac.getInstance("HmacSHA256", p);
    m.init(g.generateKey());
    long[] n = count(100, () -> assertThat(m.doFinal(new byte[1024])).hasSize(32), "C_SignInit", "C_Sign");
    assertThat(n).containsExactly(100, 100, 200);
  }

  @Test
  void ecdsaSignIsOneInitAndOneSign() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    s.initSign(g.generateKeyPair().getPrivate());
    long[] n = count(20, () -> {
      s.update(new byte[32]);
      assertThat(s.sign()).isNotEmpty();
    }, "C_SignInit", "C_Sign");
    assertThat(n).containsExactly(20, 20, 40);
  }

  /** RSA signing and verification, PKCS#1 v1.5 and PSS: one init and one data call each, nothing else. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"SHA256withRSA", "RSASSA-PSS"})
  void rsaSignAndVerifyAreOneInitAndOneCall(String algorithm) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
    g.initialize(2048);
    java.security.KeyPair kp = g.generateKeyPair();
    Signature s = Signature.getInstance(algorithm, p);
    Signature v = Signature.getInstance(algorithm, p);
    if (algorithm.equals("RSASSA-PSS")) {
      java.security.spec.PSSParameterSpec pss = new java.security.spec.PSSParameterSpec("SHA-256", "MGF1", java.security.spec.MGF1ParameterSpec.SHA256, 32, 1);
      s.setParameter(pss);
      v.setParameter(pss);
    }
    s.initSign(kp.getPrivate());
    v.initVerify(kp.getPublic());
    byte[][] sig = new byte[1][];
    long[] n = count(5, () -> {
      s.update(new byte[32]);
      sig[0] = s.sign();
    }, "C_SignInit", "C_Sign");
    assertThat(n).containsExactly(5, 5, 10);
    n = count(5, () -> {
      v.update(new byte[32]);
      assertThat(v.verify(sig[0])).isTrue();
    }, "C_VerifyInit", "C_Verify");
    assertThat(n).containsExactly(5, 5, 10);
  }

  // ------------------------------------------------------------------ SecureRandom

  /** An instance in steady use: its refills have grown to 1024 bytes (64 + 128 + 256 + 512 fetched and used up). */
  private static SecureRandom warmRandom() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    shim.resetCounters();
    for (int i = 0; i < (64 + 128 + 256 + 512) / 32; i++) {
      r.nextBytes(new byte[32]);
    }
    assertThat(shim.calls("C_GenerateRandom")).isEqualTo(4);
    return r;
  }

  @ParameterizedTest(name = "{0} requests of {1} bytes: {2} C_GenerateRandom")
  @CsvSource({
      "32, 32, 1", // exactly one buffer
      "33, 32, 2", // one more byte than a buffer: a second refill
      "1024, 1, 1",
      "10, 100, 1",
      "11, 100, 2", // the 11th request spans the refill
      "4, 256, 1", // 256 is still small
      "5, 257, 5", // past the limit: straight through, one call each
      "3, 4096, 3",
      "5, 0, 0"})
  void smallRequestsShareOneCall(int requests, int size, int expectedCalls) throws Exception {
    SecureRandom r = warmRandom();
    shim.resetCounters();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < requests; i++) {
      byte[] b = new byte[size];
      r.nextBytes(b);
      if (size >= 16) {
        assertThat(b).isNotEqualTo(new byte[size]);
        assertThat(seen.add(HexFormat.of().formatHex(b))).as("request %d repeats an earlier output", i).isTrue();
      }
    }
    assertThat(shim.calls("C_GenerateRandom")).isEqualTo(expectedCalls);
    assertThat(shim.calls("*")).isEqualTo(expectedCalls);
  }

  @ParameterizedTest(name = "a new instance per request of {0} bytes: one call each")
  @CsvSource({"1", "32", "64", "200", "256"})
  void anInstancePerRequestCostsOneCallEach(int size) throws Exception {
    // As the KMS service does: the first refill is small (64 bytes, or the request), not 1 KiB.
    shim.resetCounters();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      byte[] b = new byte[size];
      SecureRandom.getInstance("PKCS11", p).nextBytes(b);
      if (size >= 16) {
        assertThat(seen.add(HexFormat.of().formatHex(b))).isTrue();
      }
    }
    assertThat(shim.calls("C_GenerateRandom")).isEqualTo(5);
  }

  @Test
  void refillsGrowFrom64To1024Bytes() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    shim.resetCounters();
    int[] callsAfter = new int[64];
    for (int i = 0; i < 64; i++) {
      r.nextBytes(new byte[32]);
      callsAfter[i] = (int) shim.calls("C_GenerateRandom");
    }
    // Refills at request 1 (64 B), 3 (128 B), 7 (256 B), 15 (512 B), 31 and 63 (1024 B each).
    assertThat(callsAfter[0]).isEqualTo(1);
    assertThat(callsAfter[1]).isEqualTo(1);
    assertThat(callsAfter[2]).isEqualTo(2);
    assertThat(callsAfter[5]).isEqualTo(2);
    assertThat(callsAfter[6]).isEqualTo(3);
    assertThat(callsAfter[14]).isEqualTo(4);
    assertThat(callsAfter[30]).isEqualTo(5);
    assertThat(callsAfter[61]).isEqualTo(5);
    assertThat(callsAfter[62]).isEqualTo(6);
  }

  @Test
  void noByteIsHandedOutTwiceAcrossARefill() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    // 3000 bytes in 16-byte pieces over three refills: every piece differs from every other.
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 3000 / 16; i++) {
      byte[] b = new byte[16];
      r.nextBytes(b);
      assertThat(seen.add(HexFormat.of().formatHex(b))).isTrue();
    }
  }

  @Test
  void concurrentCallersNeverGetTheSameBytes() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    Set<String> all = ConcurrentHashMap.newKeySet();
    ExecutorService ex = Executors.newFixedThreadPool(4);
    try {
      IntFunction<Integer> work = t -> {
        int dup = 0;
        for (int i = 0; i < 2000; i++) {
          byte[] b = new byte[16 + (i % 3)];
          r.nextBytes(b);
          if (!all.add(HexFormat.of().formatHex(b, 0, 16))) {
            dup++;
          }
        }
        return dup;
      };
      List<Future<Integer>> fs = List.of(ex.submit(() -> work.apply(0)), ex.submit(() -> work.apply(1)),
          ex.submit(() -> work.apply(2)), ex.submit(() -> work.apply(3)));
      for (Future<Integer> f : fs) {
        assertThat(f.get()).isZero();
      }
    } finally {
      ex.shutdownNow();
    }
    assertThat(all).hasSize(8000);
  }

  @Test
  void setSeedReachesTheTokenAndDropsTheBuffer() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    r.nextBytes(new byte[32]); // fills the buffer (64 bytes)
    shim.resetCounters();
    r.nextBytes(new byte[32]);
    assertThat(shim.calls("C_GenerateRandom")).isZero(); // served from the buffer
    r.setSeed(new byte[] {1, 2, 3, 4});
    assertThat(shim.calls("C_SeedRandom")).isEqualTo(1);
    r.nextBytes(new byte[32]);
    assertThat(shim.calls("C_GenerateRandom")).isEqualTo(1); // buffered bytes from before the seed are gone
  }

  @Test
  void generateSeedGoesStraightToTheToken() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    r.nextBytes(new byte[32]);
    shim.resetCounters();
    byte[] a = r.generateSeed(16);
    byte[] b = r.generateSeed(16);
    assertThat(a).isNotEqualTo(b).isNotEqualTo(new byte[16]);
    assertThat(r.generateSeed(0)).isEmpty();
    assertThat(shim.calls("C_GenerateRandom")).isEqualTo(2);
  }

  @Test
  void aFailingRefillIsAProviderExceptionAndTheNextRequestWorks() throws Exception {
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    shim.rules("C_GenerateRandom:rv=CKR_FUNCTION_FAILED:once");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.nextBytes(new byte[32]))
        .isInstanceOf(java.security.ProviderException.class)
        .hasMessageContaining("C_GenerateRandom");
    shim.clear();
    byte[] b = new byte[32];
    r.nextBytes(b);
    assertThat(b).isNotEqualTo(new byte[32]);
  }

  private static SecretKey aes() throws Exception {
    KeyGenerator g = KeyGenerator.getInstance("AES", p);
    g.init(256);
    return g.generateKey();
  }
}
