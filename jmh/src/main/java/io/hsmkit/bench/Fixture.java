package io.hsmkit.bench;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKS;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;

/**
 * Both sides of the benchmark on one token: the binding's {@link Session} with its session keys,
 * and the C library's own session with its own keys (the same kinds, made the same way).
 *
 * <p>Inputs are the same bytes on both sides (see hsmbench.c), outputs are preallocated at the
 * size each operation needs, and one {@link #binding(int)} is exactly the calls that one iteration
 * of the C loop makes: an Init and one single-part call, or one C_GenerateRandom.
 *
 * <p>The GCM IV is reused on every call, as the C side reuses it. With a throwaway session key and
 * discarded ciphertexts this is harmless in a benchmark; anywhere else it breaks GCM.
 */
public final class Fixture implements AutoCloseable {
  public static final int DATA_LEN = 1024;
  public static final int GCM_TAG_BYTES = 16;

  static final byte[] P256_OID = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07};
  static final byte[] RSA_E = {0x01, 0x00, 0x01};
  static final byte[] SHA256_DIGEST_INFO_PREFIX = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, (byte) 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
  };

  private final Pkcs11Module module;
  private final Session session;
  private boolean cReady;

  private final long aesKey;
  private final long hmacKey;
  private final long ecPrivate;
  private final long rsaPrivate;

  private final Mechanism gcm;
  private final Mechanism hmac = Mechanism.of(CKM.SHA256_HMAC);
  private final Mechanism ecdsa = Mechanism.of(CKM.ECDSA);
  private final Mechanism rsa = Mechanism.of(CKM.RSA_PKCS);

  final byte[] data = new byte[DATA_LEN];
  final byte[] digest = new byte[32];
  final byte[] digestInfo = new byte[SHA256_DIGEST_INFO_PREFIX.length + 32];
  final byte[] outGcm = new byte[DATA_LEN + GCM_TAG_BYTES];
  final byte[] outMac = new byte[32];
  final byte[] outEc = new byte[64];
  final byte[] outRsa = new byte[256];
  final byte[] outRandom = new byte[32];

  private Fixture(BenchToken token) {
    for (int i = 0; i < DATA_LEN; i++) {
      data[i] = (byte) (i * 31 + 7);
    }
    for (int i = 0; i < 32; i++) {
      digest[i] = (byte) (i * 13 + 1);
    }
    byte[] iv = new byte[12];
    for (int i = 0; i < iv.length; i++) {
      iv[i] = (byte) (i + 1);
    }
    System.arraycopy(SHA256_DIGEST_INFO_PREFIX, 0, digestInfo, 0, SHA256_DIGEST_INFO_PREFIX.length);
    System.arraycopy(digest, 0, digestInfo, SHA256_DIGEST_INFO_PREFIX.length, 32);
    gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, new byte[0], GCM_TAG_BYTES * 8));

    // The C side goes first and does the process's C_Initialize. The binding's own C_Initialize
    // (JnaPkcs11 on a fresh per-thread arena) passes a CK_C_INITIALIZE_ARGS of which it writes only
    // `flags`: the mutex pointers and pReserved are whatever malloc left there, and SoftHSM2 answers
    // CKR_ARGUMENTS_BAD or jumps through a garbage CreateMutex (SIGSEGV), at random; reproducible
    // with MALLOC_PERTURB_=85. When the library is already initialised, SoftHSM2 answers
    // CKR_CRYPTOKI_ALREADY_INITIALIZED before it reads the arguments, which the binding takes as
    // success. See README.md, "Found while building this".
    int rv = HsmBenchNative.hsmbench_setup(token.library(), token.slotId(), token.userPin());
    if (rv != 0) {
      throw new IllegalStateException("hsmbench_setup: " + HsmBenchNative.hsmbench_last_error() + " (" + rv + ")");
    }
    cReady = true;
    Pkcs11Module m = null;
    Session s = null;
    try {
      m = Pkcs11Module.open(token.library());
      s = m.slot(token.slotId()).openSession(true);
      // One library instance, one login: the C side's login shows in the binding's new session.
      // (Two instances would mean two tokens' worth of state, and not the same work.)
      if (s.info().state() != CKS.RW_USER_FUNCTIONS) {
        throw new IllegalStateException("the binding does not share libhsmbench's library instance (session state "
            + CKS.name(s.info().state()) + ")");
      }
      char[] pin = token.userPin().toCharArray();
      s.login(CKU.USER, pin); // CKR_USER_ALREADY_LOGGED_IN counts as success
      java.util.Arrays.fill(pin, '\0');

      aesKey = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
          Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
          Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false));
      hmacKey = s.generateKey(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN),
          Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET),
          Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false));
      KeyPairHandles ec = s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.EC_PARAMS, P256_OID), Attribute.bool(CKA.VERIFY, true)},
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.SENSITIVE, true)});
      ecPrivate = ec.privateKey();
      KeyPairHandles rsaPair = s.generateKeyPair(Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.MODULUS_BITS, 2048), Attribute.bytes(CKA.PUBLIC_EXPONENT, RSA_E), Attribute.bool(CKA.VERIFY, true)},
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.SENSITIVE, true)});
      rsaPrivate = rsaPair.privateKey();
    } catch (RuntimeException e) {
      if (s != null) {
        s.close();
      }
      if (m != null) {
        m.close();
      }
      cReady = false;
      HsmBenchNative.hsmbench_teardown();
      throw e;
    }
    module = m;
    session = s;
  }

  /** Makes both sides ready on {@code token}: a module, a session, login, keys, and the C side. */
  public static Fixture open(BenchToken token) {
    return new Fixture(token);
  }

  /** One operation through the binding; returns the bytes it produced. */
  public int binding(int op) {
    switch (op) {
      case 0:
        return session.encrypt(gcm, aesKey, data, 0, DATA_LEN, outGcm, 0);
      case 1:
        return session.sign(hmac, hmacKey, data, 0, DATA_LEN, outMac, 0);
      case 2:
        return session.sign(ecdsa, ecPrivate, digest, 0, digest.length, outEc, 0);
      case 3:
        return session.sign(rsa, rsaPrivate, digestInfo, 0, digestInfo.length, outRsa, 0);
      case 4:
        session.generateRandom(outRandom);
        return outRandom.length;
      default:
        throw new IllegalArgumentException("op " + op);
    }
  }

  /** {@code n} operations in the C loop; returns their nanoseconds, or throws for a PKCS#11 error. */
  public long c(int op, long n) {
    long ns = HsmBenchNative.hsmbench_run(op, n);
    if (ns < 0) {
      throw new IllegalStateException("hsmbench_run(" + Op.of(op) + ") failed: CKR 0x" + Long.toHexString(-ns));
    }
    return ns;
  }

  /** Closes the binding's session and module (which does not finalize: it did not initialise), then the C side's session. */
  @Override
  public void close() {
    try {
      session.close();
      module.close();
    } finally {
      if (cReady) {
        cReady = false;
        HsmBenchNative.hsmbench_teardown();
      }
    }
  }
}
