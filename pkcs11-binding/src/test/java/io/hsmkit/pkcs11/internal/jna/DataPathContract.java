package io.hsmkit.pkcs11.internal.jna;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.SinglePart;
import io.hsmkit.pkcs11.testing.TestToken;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The data calls (single-part, init-and-run, update, final, verify, random) give the JDK's answers
 * and the documented errors on either path: {@link JniDataPathTest} runs this on the JNI fast path,
 * {@link JnaDataPathTest} with it turned off. Sizes straddle {@link JniCalls#STACK_BYTES}, where the
 * JNI side switches from stack copies to pinned arrays, and offsets are never zero.
 *
 * <p>Per-class lifecycle: the subclass is constructed (and its static initialiser run) before the
 * token is opened, so a subclass can set {@code hsmkit.jni} first.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DataPathContract {
  private final byte[] aesValue = pattern(32, 3);
  private final byte[] hmacValue = pattern(32, 5);
  private TestToken token;
  private Pkcs11Module module;
  Session s;
  Pkcs11 raw;
  long aes;
  long hmac;

  /** The name of the token made for this class. */
  abstract String name();

  /** What {@link JnaPkcs11#fastPath()} must report on this path. */
  abstract void checkPath(String fastPath);

  @BeforeAll
  void open() {
    token = TestToken.create(name(), "datapath");
    module = Pkcs11Module.open(token.library());
    raw = module.raw();
    s = module.slotByTokenLabel("datapath").orElseThrow().openSession(true);
    s.login(CKU.USER, token.userPin());
    aes = s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.secret(CKA.VALUE, aesValue),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true));
    hmac = s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET), Attribute.secret(CKA.VALUE, hmacValue),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true));
  }

  @AfterAll
  void close() {
    if (s != null) {
      s.close();
    }
    if (module != null) {
      module.close();
    }
  }

  static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
    }
    return b;
  }

  private byte[] jdk(String transformation, int mode, byte[] iv, byte[] in) throws Exception {
    Cipher c = Cipher.getInstance(transformation);
    SecretKeySpec k = new SecretKeySpec(aesValue, "AES");
    if (transformation.contains("GCM")) {
      c.init(mode, k, new GCMParameterSpec(128, iv));
    } else {
      c.init(mode, k, new IvParameterSpec(iv));
    }
    return c.doFinal(in);
  }

  private byte[] jdkMac(byte[] in) throws Exception {
    Mac m = Mac.getInstance("HmacSHA256");
    m.init(new SecretKeySpec(hmacValue, "HmacSHA256"));
    return m.doFinal(in);
  }

  /** {@code data} at offset 7 of a larger array, the rest filled with 0x5A. */
  private static byte[] at7(byte[] data) {
    byte[] b = new byte[data.length + 20];
    Arrays.fill(b, (byte) 0x5A);
    System.arraycopy(data, 0, b, 7, data.length);
    return b;
  }

  @Test
  void thePathIsTheExpectedOne() {
    checkPath(((JnaPkcs11) raw).fastPath());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 15, 16, 1024, 4095, 4096, 4097, 65536, 100_003})
  void cbcPadOneShotAgreesWithTheJdkBothWays(int size) throws Exception {
    byte[] iv = pattern(16, size);
    byte[] pt = pattern(size, 1);
    byte[] expected = jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, pt);
    byte[] out = new byte[expected.length + 30];
    int n = s.encrypt(Mechanism.of(CKM.AES_CBC_PAD, iv), aes, at7(pt), 7, size, out, 11);
    assertThat(n).isEqualTo(expected.length);
    assertThat(Arrays.copyOfRange(out, 11, 11 + n)).isEqualTo(expected);
    assertThat(out[10]).isZero();
    assertThat(out[11 + n]).isZero();

    byte[] back = new byte[size + 40];
    int m = s.decrypt(Mechanism.of(CKM.AES_CBC_PAD, iv), aes, at7(expected), 7, expected.length, back, 3);
    assertThat(Arrays.copyOfRange(back, 3, 3 + m)).isEqualTo(pt);
    assertThat(s.activeOperations()).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 1024, 4096, 4112, 65536})
  void inPlaceEncryptionInOneArrayAgreesWithTheJdk(int size) throws Exception {
    byte[] iv = pattern(16, 9);
    byte[] pt = pattern(size, 2);
    byte[] expected = jdk("AES/CBC/NoPadding", Cipher.ENCRYPT_MODE, iv, pt);
    byte[] buf = at7(pt);
    int n = s.encrypt(Mechanism.of(CKM.AES_CBC, iv), aes, buf, 7, size, buf, 7);
    assertThat(Arrays.copyOfRange(buf, 7, 7 + n)).isEqualTo(expected);
    // Shifted by one block: the ranges overlap but do not coincide.
    buf = at7(pt);
    n = s.encrypt(Mechanism.of(CKM.AES_CBC, iv), aes, buf, 7, size - 16, buf, 3);
    assertThat(Arrays.copyOfRange(buf, 3, 3 + n)).isEqualTo(Arrays.copyOf(expected, size - 16));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 1024, 4080, 4096, 65536})
  void gcmAgreesWithTheJdkAndRejectsATamperedTag(int size) throws Exception {
    byte[] iv = pattern(12, size);
    byte[] pt = pattern(size, 4);
    byte[] expected = jdk("AES/GCM/NoPadding", Cipher.ENCRYPT_MODE, iv, pt);
    Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 128));
    byte[] out = new byte[size + 16];
    assertThat(s.encrypt(gcm, aes, pt, 0, size, out, 0)).isEqualTo(size + 16);
    assertThat(out).isEqualTo(expected);
    assertThat(s.decrypt(gcm, aes, expected)).isEqualTo(pt);
    byte[] bad = expected.clone();
    bad[bad.length - 1] ^= 1;
    assertThatThrownBy(() -> s.decrypt(gcm, aes, bad, 0, bad.length, new byte[size + 16], 0))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> {
          assertThat(e.function()).isEqualTo("C_Decrypt");
          // SoftHSM2 2.6.1 answers a bad tag with CKR_GENERAL_ERROR.
          assertThat(e.ckr()).isIn(CKR.ENCRYPTED_DATA_INVALID, CKR.ENCRYPTED_DATA_LEN_RANGE, CKR.GENERAL_ERROR);
        });
    assertThat(s.activeOperations()).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 32, 4096, 4097, 100_003})
  void hmacSignAndVerifyAgreeWithTheJdk(int size) throws Exception {
    byte[] data = pattern(size, 6);
    byte[] expected = jdkMac(data);
    Mechanism m = Mechanism.of(CKM.SHA256_HMAC);
    byte[] out = new byte[40];
    assertThat(s.sign(m, hmac, at7(data), 7, size, out, 5)).isEqualTo(32);
    assertThat(Arrays.copyOfRange(out, 5, 37)).isEqualTo(expected);
    assertThat(s.verify(m, hmac, data, expected)).isTrue();
    byte[] wrong = expected.clone();
    wrong[0] ^= 1;
    assertThat(s.verify(m, hmac, data, wrong)).isFalse();
    assertThat(s.activeOperations()).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4096, 4097, 70_000})
  void multiPartCallsAgreeWithTheJdk(int chunk) throws Exception {
    byte[] data = pattern(3 * chunk, 8);
    s.signInit(Mechanism.of(CKM.SHA256_HMAC), hmac);
    for (int i = 0; i < 3; i++) {
      s.signUpdate(data, i * chunk, chunk);
    }
    byte[] mac = new byte[32];
    assertThat(s.signFinal(mac, 0, 32)).isEqualTo(32);
    assertThat(mac).isEqualTo(jdkMac(data));

    s.verifyInit(Mechanism.of(CKM.SHA256_HMAC), hmac);
    s.verifyUpdate(data, 0, data.length);
    assertThat(s.verifyFinal(mac)).isTrue();

    byte[] iv = pattern(16, 1);
    byte[] pt = pattern(16 * chunk, 3);
    byte[] ct = new byte[pt.length + 16];
    s.encryptInit(Mechanism.of(CKM.AES_CBC_PAD, iv), aes);
    int n = 0;
    for (int i = 0; i < 16; i++) {
      n += s.encryptUpdate(pt, i * chunk, chunk, ct, n, ct.length - n);
    }
    n += s.encryptFinal(ct, n, ct.length - n);
    assertThat(Arrays.copyOf(ct, n)).isEqualTo(jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, pt));

    byte[] digest = new byte[32];
    s.digestInit(Mechanism.of(CKM.SHA256));
    s.digestUpdate(data, 0, data.length);
    assertThat(s.digestFinal(digest, 0, 32)).isEqualTo(32);
    assertThat(digest).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
    assertThat(s.activeOperations()).isZero();
  }

  /** RSA goes through the stack copies (only quick symmetric mechanisms pin small arrays). */
  @Test
  void rsaRoundTripsAndVerifiesThroughTheStackCopies() {
    io.hsmkit.pkcs11.raw.KeyPairHandles kp = s.generateKeyPair(Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.MODULUS_BITS, 2048), Attribute.bytes(CKA.PUBLIC_EXPONENT, new byte[] {1, 0, 1}),
            Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.VERIFY, true)},
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.DECRYPT, true), Attribute.bool(CKA.SIGN, true)});
    byte[] msg = pattern(100, 12);
    byte[] ct = new byte[256 + 9];
    assertThat(s.encrypt(Mechanism.of(CKM.RSA_PKCS), kp.publicKey(), at7(msg), 7, msg.length, ct, 9)).isEqualTo(256);
    byte[] pt = new byte[256 + 3];
    int n = s.decrypt(Mechanism.of(CKM.RSA_PKCS), kp.privateKey(), ct, 9, 256, pt, 3);
    assertThat(Arrays.copyOfRange(pt, 3, 3 + n)).isEqualTo(msg);
    byte[] sig = s.sign(Mechanism.of(CKM.SHA256_RSA_PKCS), kp.privateKey(), msg);
    assertThat(s.verify(Mechanism.of(CKM.SHA256_RSA_PKCS), kp.publicKey(), msg, sig)).isTrue();
    sig[5] ^= 1;
    assertThat(s.verify(Mechanism.of(CKM.SHA256_RSA_PKCS), kp.publicKey(), msg, sig)).isFalse();
    assertThat(s.activeOperations()).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 5000})
  void digestAgreesWithTheJdk(int size) throws Exception {
    byte[] data = pattern(size, 10);
    assertThat(s.digest(Mechanism.of(CKM.SHA256), data)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 32, 4096, 4097, 100_000})
  void randomFillsExactlyTheRangeAsked(int size) {
    byte[] b = new byte[size + 8];
    raw.C_GenerateRandom(s.handle(), b, 4, size);
    assertThat(Arrays.copyOf(b, 4)).containsOnly(0);
    assertThat(Arrays.copyOfRange(b, 4 + size, b.length)).containsOnly(0);
    if (size >= 32) {
      assertThat(Arrays.copyOfRange(b, 4, 4 + size)).isNotEqualTo(new byte[size]);
    }
  }

  @Test
  void aShortBufferNamesTheDataCallReportsTheLengthAndLeavesTheOperationActive() throws Exception {
    byte[] iv = pattern(16, 2);
    byte[] pt = pattern(1024, 2);
    Mechanism m = Mechanism.of(CKM.AES_CBC_PAD, iv);
    assertThatThrownBy(() -> raw.initAndRun(SinglePart.ENCRYPT, s.handle(), m, aes, pt, 0, pt.length, new byte[100], 0, 100))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> {
          assertThat(e.function()).isEqualTo("C_Encrypt");
          assertThat(e.ckr()).isEqualTo(CKR.BUFFER_TOO_SMALL);
          assertThat(e.requiredLength()).isEqualTo(1040);
        });
    // Still active: the same operation finishes with a large enough buffer.
    byte[] out = new byte[1040];
    assertThat(raw.C_Encrypt(s.handle(), pt, 0, pt.length, out, 0, out.length)).isEqualTo(1040);
    assertThat(out).isEqualTo(jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, pt));

    // Through Session: the byte[] form asks again by itself; the offset form marks the operation.
    assertThat(s.encrypt(m, aes, pattern(5000, 1))).isEqualTo(jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, pattern(5000, 1)));
    assertThat(s.activeOperations()).isZero();
    try (Session other = module.slotByTokenLabel("datapath").orElseThrow().openSession(false)) {
      assertThatThrownBy(() -> other.encrypt(m, aes, pt, 0, pt.length, new byte[1030], 0)).isInstanceOf(Pkcs11Exception.class);
      assertThat(other.activeOperations()).isEqualTo(Session.OP_ENCRYPT);
    }
  }

  @Test
  void aNullOutputAsksTheLengthOnly() throws Exception {
    byte[] iv = pattern(16, 4);
    byte[] pt = pattern(4097, 4);
    Mechanism m = Mechanism.of(CKM.AES_CBC_PAD, iv);
    assertThat(raw.initAndRun(SinglePart.ENCRYPT, s.handle(), m, aes, pt, 0, pt.length, null, 0, 0)).isEqualTo(4112);
    byte[] out = new byte[4112];
    assertThat(raw.C_Encrypt(s.handle(), pt, 0, pt.length, out, 0, out.length)).isEqualTo(4112);
    assertThat(out).isEqualTo(jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, pt));
  }

  @Test
  void aFailedInitNamesTheInitAndLeavesNothingActive() {
    byte[] out = new byte[64];
    assertThatThrownBy(() -> s.encrypt(Mechanism.of(CKM.AES_CBC_PAD, new byte[16]), 0xDEADBEEFL, new byte[16], 0, 16, out, 0))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> {
          assertThat(e.function()).isEqualTo("C_EncryptInit");
          assertThat(e.ckr()).isIn(CKR.KEY_HANDLE_INVALID, CKR.OBJECT_HANDLE_INVALID);
        });
    assertThatThrownBy(() -> s.verify(Mechanism.of(CKM.SHA256_HMAC), 0xDEADBEEFL, new byte[5], new byte[32]))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> assertThat(e.function()).isEqualTo("C_VerifyInit"));
    // A mechanism the key cannot do: the init refuses it.
    assertThatThrownBy(() -> s.sign(Mechanism.of(CKM.SHA256_HMAC), aes, new byte[5], 0, 5, out, 0))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> assertThat(e.function()).isEqualTo("C_SignInit"));
    assertThat(s.activeOperations()).isZero();
    assertThat(s.sign(Mechanism.of(CKM.SHA256_HMAC), hmac, new byte[5])).hasSize(32);
  }

  @Test
  void aFailedDataCallNamesItAndEndsTheOperation() {
    byte[] out = new byte[64];
    assertThatThrownBy(() -> s.encrypt(Mechanism.of(CKM.AES_CBC, new byte[16]), aes, new byte[15], 0, 15, out, 0))
        .isInstanceOfSatisfying(Pkcs11Exception.class, e -> {
          assertThat(e.function()).isEqualTo("C_Encrypt");
          assertThat(e.ckr()).isEqualTo(CKR.DATA_LEN_RANGE);
        });
    assertThat(s.activeOperations()).isZero();
    assertThat(s.encrypt(Mechanism.of(CKM.AES_CBC, new byte[16]), aes, new byte[16], 0, 16, out, 0)).isEqualTo(16);
  }

  @Test
  void badRangesAreRefusedBeforeAnyNativeCall() {
    byte[] in = new byte[32];
    byte[] out = new byte[32];
    Mechanism m = Mechanism.of(CKM.AES_CBC, new byte[16]);
    assertThatThrownBy(() -> raw.initAndRun(SinglePart.ENCRYPT, s.handle(), m, aes, in, 20, 16, out, 0, 32)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.initAndRun(SinglePart.ENCRYPT, s.handle(), m, aes, in, 0, 16, out, 20, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.initAndRun(SinglePart.ENCRYPT, s.handle(), m, aes, in, -1, 16, out, 0, 32)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(s.handle(), in, 0, 33, out, 0, 32)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Verify(s.handle(), in, 0, 16, out, 30, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_GenerateRandom(s.handle(), out, 30, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_SignUpdate(s.handle(), null, 0, 4)).isInstanceOf(NullPointerException.class);
    assertThat(s.activeOperations()).isZero();
    assertThat(s.encrypt(m, aes, in, 0, 16, out, 0)).isEqualTo(16);
  }

  /**
   * Threads on their own sessions, large (pinned) and small operations mixed, while another thread
   * keeps the collector busy: every answer is right and the JVM stays up.
   */
  @Test
  void manyThreadsWithTheCollectorRunningGetRightAnswers() throws Exception {
    byte[] iv = pattern(16, 7);
    byte[] big = pattern(65536, 7);
    byte[] small = pattern(1000, 7);
    byte[] bigCt = jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, big);
    byte[] smallCt = jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, iv, small);
    byte[] bigMac = jdkMac(big);
    AtomicBoolean stop = new AtomicBoolean();
    Thread churn = new Thread(() -> {
      List<byte[]> keep = new ArrayList<>();
      while (!stop.get()) {
        keep.add(new byte[1 << 16]);
        if (keep.size() > 64) {
          keep.clear();
          System.gc();
        }
      }
    });
    churn.start();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(pool.submit(() -> {
          try (Session own = module.slotByTokenLabel("datapath").orElseThrow().openSession(false)) {
            Mechanism m = Mechanism.of(CKM.AES_CBC_PAD, iv);
            for (int i = 0; i < 150; i++) {
              assertThat(own.encrypt(m, aes, big)).isEqualTo(bigCt);
              assertThat(own.encrypt(m, aes, small)).isEqualTo(smallCt);
              assertThat(own.sign(Mechanism.of(CKM.SHA256_HMAC), hmac, big)).isEqualTo(bigMac);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      stop.set(true);
      churn.join();
      pool.shutdownNow();
    }
  }
}
