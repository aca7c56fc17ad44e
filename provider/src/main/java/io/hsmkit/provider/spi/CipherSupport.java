package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterWork;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.SessionWork;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.ReplicatedKeys;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.InvalidParameterSpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;

/**
 * What the Cipher SPIs share: running token work so that a refused ciphertext never costs the
 * session, output-room checks, and a small growable byte buffer.
 *
 * <h2>Why data calls do not go straight through {@link TokenContext#execute}</h2>
 *
 * SoftHSM2 2.6.1 answers CKR_GENERAL_ERROR, not CKR_ENCRYPTED_DATA_INVALID, for a GCM tag that does
 * not verify, bad CBC padding, bad RSA PKCS#1/OAEP padding, a key-wrap integrity check that fails
 * and raw RSA input not below the modulus (measured here, and so in its source: {@code SymDecrypt},
 * {@code AsymDecrypt} and {@code UnwrapKeySym} return CKR_GENERAL_ERROR after {@code resetOp()}).
 * The session pool reads CKR_GENERAL_ERROR as a device fault and closes the session, and SoftHSM2
 * destroys the session objects created in a session when it is closed: every wrong tag would cost
 * a session, and any session key made in it. {@link #call} therefore turns CKR_GENERAL_ERROR from a
 * data call into a checked exception inside the pooled work, so that the session goes back to the
 * pool (the token has already ended the operation), and maps it outside with the meaning the
 * caller gives it ({@link OnGeneralError}). Every other code goes to {@link Errors}.
 */
final class CipherSupport {
  private CipherSupport() {}

  /** What CKR_GENERAL_ERROR from the data call means for this operation. */
  enum OnGeneralError {
    /** AEAD decryption: the tag did not verify. */
    BAD_TAG,
    /** Padded or wrapped decryption: the padding or integrity check failed. */
    BAD_PADDING,
    /** Encryption of input the mechanism cannot take (raw RSA input not below the modulus). */
    BAD_INPUT,
    /** Nothing specific: a provider error. */
    PROVIDER
  }

  /** Token work that may throw JCA exceptions of its own. */
  @FunctionalInterface
  interface Work<T> {
    T apply(Session s) throws GeneralSecurityException;
  }

  /** Carries CKR_GENERAL_ERROR out of the pooled work without the pool seeing a Pkcs11Exception. */
  private static final class TokenRefused extends GeneralSecurityException {
    private static final long serialVersionUID = 1L;
    final transient Pkcs11Exception ckr;

    TokenRefused(Pkcs11Exception ckr) {
      super(ckr.getMessage());
      this.ckr = ckr;
    }
  }

  /**
   * Runs {@code work} on a pooled session (one borrow; the pool heals and retries only when the
   * session, login or token went away). Errors become what a Cipher may throw from
   * update/doFinal: AEADBadTagException, BadPaddingException, IllegalBlockSizeException,
   * ShortBufferException, or a ProviderException.
   */
  static <T> T call(TokenContext token, String what, OnGeneralError meaning, Work<T> work)
      throws IllegalBlockSizeException, BadPaddingException, ShortBufferException {
    try {
      return token.execute(s -> {
        try {
          return work.apply(s);
        } catch (Pkcs11Exception e) {
          // Only the data calls: a C_*Init that fails with CKR_GENERAL_ERROR has seen no data.
          if (e.is(CKR.GENERAL_ERROR) && meaning != OnGeneralError.PROVIDER && !e.function().endsWith("Init")) {
            throw new TokenRefused(e);
          }
          throw e;
        }
      });
    } catch (TokenRefused r) {
      throw dataError(r.ckr, meaning);
    } catch (Pkcs11Exception e) {
      throw rethrow(what, cipherError(what, e, meaning == OnGeneralError.BAD_TAG));
    } catch (GeneralSecurityException e) {
      throw rethrow(what, e);
    }
  }

  /** Token work with the handle of the member it runs on. */
  @FunctionalInterface
  interface KeyedWork<T> {
    T apply(Session s, long handle) throws GeneralSecurityException;
  }

  /**
   * {@link #call} over a cluster: a complete one-shot operation with {@code key}, run on a member
   * the cluster chooses with that member's handle, moved to another member after a device error.
   * CKR_GENERAL_ERROR is left to the cluster here (it probes the member: a failing library is taken
   * out, and the same answer from a second member is the token's answer to the data), then mapped
   * as {@link #call} does. A failure of the cluster is a ClusterOperationException naming the
   * members tried.
   */
  static <T> T callOnCluster(TokenContext token, HsmKey key, String what, OnGeneralError meaning, KeyedWork<T> work)
      throws IllegalBlockSizeException, BadPaddingException, ShortBufferException {
    try {
      return token.executeWithKey(key.objectClass(), key.id(), work::apply);
    } catch (Pkcs11Exception e) {
      if (e.is(CKR.GENERAL_ERROR) && meaning != OnGeneralError.PROVIDER && !e.function().endsWith("Init")) {
        throw dataError(e, meaning);
      }
      throw rethrow(what, cipherError(what, e, meaning == OnGeneralError.BAD_TAG));
    } catch (KeyMissingException e) {
      throw new ProviderException(what + ": the key is on no healthy member of the cluster", e);
    } catch (GeneralSecurityException e) {
      throw rethrow(what, e);
    }
  }

  /** Throws {@code e} as the exception update/doFinal may throw, or as a ProviderException. */
  static ProviderException rethrow(String what, GeneralSecurityException e)
      throws IllegalBlockSizeException, BadPaddingException, ShortBufferException {
    if (e instanceof IllegalBlockSizeException x) {
      throw x;
    }
    if (e instanceof BadPaddingException x) {
      throw x;
    }
    if (e instanceof ShortBufferException x) {
      throw x;
    }
    throw new ProviderException(what + ": " + e.getMessage(), e);
  }

  /**
   * Like {@link #call} for key operations: failures are InvalidKeyException. {@code makesObject}:
   * the work creates a key that must outlive it (C_UnwrapKey), so it runs on the token context's
   * object session, which the pool never closes; other work runs on a pooled session.
   */
  static <T> T callForKey(TokenContext token, String what, boolean makesObject, Work<T> work) throws InvalidKeyException {
    SessionWork<T, GeneralSecurityException> w = s -> {
      try {
        return work.apply(s);
      } catch (Pkcs11Exception e) {
        if (e.is(CKR.GENERAL_ERROR)) {
          throw new TokenRefused(e);
        }
        throw e;
      }
    };
    try {
      return makesObject ? token.executeForObjects(w) : token.execute(w);
    } catch (TokenRefused r) {
      InvalidKeyException ike = new InvalidKeyException(what + ": the token refused the wrapped key (" + r.ckr.ckrName() + ")");
      ike.initCause(r.ckr);
      throw ike;
    } catch (Pkcs11Exception e) {
      if (Errors.kind(e) == Errors.Kind.PROVIDER) {
        throw Errors.provider(what, e);
      }
      throw Errors.invalidKey(what, e);
    } catch (InvalidKeyException e) {
      throw e;
    } catch (GeneralSecurityException e) {
      InvalidKeyException ike = new InvalidKeyException(what + ": " + e.getMessage());
      ike.initCause(e);
      throw ike;
    }
  }

  /**
   * {@link #callForKey} over a cluster, for work that needs the member's handles of several cluster
   * keys (C_WrapKey: the wrapping key and the key to wrap): one complete operation, moved to
   * another member after a device error. The token's refusals are InvalidKeyExceptions (a
   * replicated key under a key that is not trusted: CKR_KEY_NOT_WRAPPABLE), a key on no healthy
   * member too; a failure of the cluster is a ClusterOperationException naming the members tried.
   */
  static <T> T callForKeyOnCluster(TokenContext token, String what, ClusterWork<T, RuntimeException> work) throws InvalidKeyException {
    try {
      return token.cluster().execute(work);
    } catch (ClusterException e) {
      throw TokenContext.clusterFailure(what, e);
    } catch (KeyMissingException e) {
      throw ReplicatedKeys.missing(what, "the key", e);
    } catch (Pkcs11Exception e) {
      throw ReplicatedKeys.refused(what, e);
    }
  }

  /**
   * {@link #unwrapInToken} over a cluster: C_UnwrapKey on one member with that member's handle of
   * {@code unwrappingKey}, as a replicated key (token object, sensitive, CKA_EXTRACTABLE and
   * CKA_WRAP_WITH_TRUSTED, the usage {@link #unwrapTemplate} gives), copied to the other members
   * under the cluster wrapping key and returned once it is on minReplicas members.
   */
  static Key unwrapOnCluster(TokenContext token, String what, Mechanism m, HsmKey unwrappingKey, byte[] wrapped, String algorithm, int keyType,
      int valueLengthHint) throws InvalidKeyException, NoSuchAlgorithmException {
    List<Attribute> usage = List.of(unwrapTemplate(token, algorithm, keyType));
    long cls = keyType == Cipher.SECRET_KEY ? CKO.SECRET_KEY : CKO.PRIVATE_KEY;
    byte[] kek = unwrappingKey.id();
    long kekClass = unwrappingKey.objectClass();
    return ReplicatedKeys.create(token, what, "unwrap", cls, usage, Math.max(0, valueLengthHint) * 8,
        (s, keys, template) -> s.unwrapKey(m, keys.handle(kekClass, kek), wrapped, template));
  }

  /** The CKR_GENERAL_ERROR of a data call, with the meaning the caller gave it. */
  static BadPaddingException dataError(Pkcs11Exception e, OnGeneralError meaning) {
    BadPaddingException g = switch (meaning) {
      case BAD_TAG -> new AEADBadTagException("tag mismatch");
      case BAD_PADDING -> new BadPaddingException("decryption error");
      case BAD_INPUT -> new BadPaddingException("the input is not below the modulus");
      case PROVIDER -> throw Errors.provider(e.function() + " failed", e);
    };
    g.initCause(e);
    return g;
  }

  /**
   * {@link Errors#cipher} for update/doFinal, where an InvalidKeyException cannot be thrown: the
   * key was accepted at init (its class, token and type), and a token that refuses it at first use
   * (CKA_ENCRYPT false, say) is reported as a ProviderException whose cause says why.
   */
  static GeneralSecurityException cipherError(String what, Pkcs11Exception e, boolean aeadDecrypt) {
    GeneralSecurityException g = Errors.cipher(e, aeadDecrypt);
    if (g instanceof IllegalBlockSizeException || g instanceof BadPaddingException || g instanceof ShortBufferException) {
      return g;
    }
    throw new ProviderException(what + ": " + g.getMessage(), g);
  }

  /**
   * The AES key of this token behind {@code key}. A software key (a SecretKeySpec, say) is refused
   * rather than imported: the caller chose an HSM provider, and copying a key into the token
   * silently, once per init, would leave session objects behind and blur where the key lives. Use
   * {@code KeyImport.secret} (or HsmKit's SecretKeyFactory) to import a key on purpose, or let JCA's
   * provider selection send software keys to the JDK.
   */
  static HsmSecretKey aesKey(Key key, TokenContext token) throws InvalidKeyException {
    HsmSecretKey k = HsmKeys.require(key, token, HsmSecretKey.class);
    if (k.keyType() != CKK.AES) {
      throw new InvalidKeyException("not an AES key: " + k.getAlgorithm());
    }
    return k;
  }

  /** {@code n} bytes from the token's random generator (IVs, OAEP seeds). */
  static byte[] random(TokenContext token, int n) {
    try {
      return token.execute(s -> s.generateRandom(n));
    } catch (Pkcs11Exception e) {
      throw Errors.provider("C_GenerateRandom", e);
    }
  }

  /** JDK AlgorithmParameters of {@code algorithm} holding {@code spec}. */
  static AlgorithmParameters parameters(String algorithm, AlgorithmParameterSpec spec) {
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance(algorithm);
      p.init(spec);
      return p;
    } catch (GeneralSecurityException e) {
      throw new ProviderException("cannot encode " + algorithm + " parameters", e);
    }
  }

  /** The spec of class {@code type} inside {@code params}, or null when params is null. */
  static <T extends AlgorithmParameterSpec> T spec(AlgorithmParameters params, Class<T> type) throws InvalidAlgorithmParameterException {
    if (params == null) {
      return null;
    }
    try {
      return params.getParameterSpec(type);
    } catch (InvalidParameterSpecException e) {
      throw new InvalidAlgorithmParameterException("expected " + type.getSimpleName() + " parameters: " + e.getMessage(), e);
    }
  }

  /** For {@code engineInit(opmode, key, random)}: parameter problems become InvalidKeyException, as JCA asks. */
  static InvalidKeyException asInvalidKey(InvalidAlgorithmParameterException e) {
    InvalidKeyException ike = new InvalidKeyException(e.getMessage());
    ike.initCause(e);
    return ike;
  }

  /**
   * The template for a key made by C_UnwrapKey: the configuration's defaults (token or session
   * object, sensitive, not extractable, a fresh CKA_ID) with the class, type and usage that JCA's
   * {@code algorithm} and {@code keyType} (Cipher.SECRET_KEY or PRIVATE_KEY) ask for.
   */
  static Attribute[] unwrapTemplate(TokenContext token, String algorithm, int keyType) throws NoSuchAlgorithmException {
    List<Attribute> t = KeyTemplates.secretOrPrivate(KeyTemplates.defaults(token));
    String alg = algorithm.toUpperCase(Locale.ROOT);
    if (keyType == Cipher.SECRET_KEY) {
      t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
      boolean aes = alg.equals("AES");
      boolean des3 = alg.equals("DESEDE") || alg.equals("TRIPLEDES");
      t.add(Attribute.ulong(CKA.KEY_TYPE, aes ? CKK.AES : des3 ? CKK.DES3 : CKK.GENERIC_SECRET));
      t.add(Attribute.bool(CKA.ENCRYPT, aes || des3));
      t.add(Attribute.bool(CKA.DECRYPT, aes || des3));
      t.add(Attribute.bool(CKA.WRAP, aes));
      t.add(Attribute.bool(CKA.UNWRAP, aes));
      t.add(Attribute.bool(CKA.SIGN, true));
      t.add(Attribute.bool(CKA.VERIFY, true));
      t.add(Attribute.bool(CKA.DERIVE, !aes && !des3));
    } else if (keyType == Cipher.PRIVATE_KEY) {
      t.add(Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY));
      t.add(Attribute.bool(CKA.SIGN, true));
      switch (alg) {
        case "RSA" -> {
          t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.RSA));
          t.add(Attribute.bool(CKA.DECRYPT, true));
          t.add(Attribute.bool(CKA.UNWRAP, true));
        }
        case "EC" -> {
          t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.EC));
          t.add(Attribute.bool(CKA.DERIVE, true));
        }
        case "ED25519", "EDDSA" -> t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.EC_EDWARDS));
        default -> throw new NoSuchAlgorithmException("cannot unwrap a " + algorithm + " private key into the token");
      }
    } else {
      throw new IllegalArgumentException("no token template for key type " + keyType);
    }
    return t.toArray(new Attribute[0]);
  }

  /**
   * C_UnwrapKey into a new key object of this token, read back as an HsmKit key.
   *
   * <p>SoftHSM2 2.6.1 leaves CKA_VALUE_LEN at 0 on the secret keys C_UnwrapKey makes (measured), so
   * the length read back is 0; {@code valueLengthHint}, when positive, is the length the caller
   * knows from the wrapping (RFC 3394: the wrapped length less 8) and is used instead.
   */
  static Key unwrapInToken(TokenContext token, String what, Mechanism m, long unwrappingKey, byte[] wrapped, String algorithm, int keyType,
      int valueLengthHint) throws InvalidKeyException, NoSuchAlgorithmException {
    Attribute[] template = unwrapTemplate(token, algorithm, keyType);
    HsmKey k = callForKey(token, what, true, s -> {
      long h = s.unwrapKey(m, unwrappingKey, wrapped, template);
      try {
        return HsmKeys.load(token, s, h);
      } catch (InvalidKeyException | RuntimeException e) {
        destroyQuietly(s, h);
        throw e;
      }
    });
    if (k instanceof HsmSecretKey sk && sk.bits() == 0 && valueLengthHint > 0) {
      return new HsmSecretKey(new HsmKey.KeyInfo(token, sk.handle(), sk.objectClass(), sk.keyType(), sk.id(), sk.label(),
          sk.isTokenObject(), sk.isSensitive(), sk.isExtractable()), sk.getAlgorithm(), valueLengthHint * 8);
    }
    return k;
  }

  /**
   * A key from its encoding, for unwrapping that had to decrypt into the JVM: public keys become
   * JDK keys (they are not secret); secret and private keys are imported into the token with the
   * configuration's defaults. The caller wipes {@code encoded}.
   */
  static Key keyFromEncoding(TokenContext token, byte[] encoded, String algorithm, int keyType) throws InvalidKeyException, NoSuchAlgorithmException {
    try {
      switch (keyType) {
        case Cipher.PUBLIC_KEY:
          return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(encoded));
        case Cipher.PRIVATE_KEY: {
          // The JDK key object keeps a copy of the private key until it is collected.
          PrivateKey soft = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(encoded));
          return KeyImport.privateKey(token, soft, KeyTemplates.defaults(token));
        }
        case Cipher.SECRET_KEY: {
          boolean aes = "AES".equalsIgnoreCase(algorithm);
          return KeyImport.secret(token, encoded, aes ? CKK.AES : CKK.GENERIC_SECRET, algorithm, KeyTemplates.defaults(token));
        }
        default:
          throw new InvalidKeyException("unknown key type " + keyType);
      }
    } catch (InvalidKeySpecException e) {
      throw new InvalidKeyException("the unwrapped bytes are not a " + algorithm + " key: " + e.getMessage(), e);
    }
  }

  static void destroyQuietly(Session s, long handle) {
    try {
      s.destroyObject(handle);
    } catch (Pkcs11Exception ignored) {
      // a temporary object the token will drop with its session anyway
    }
  }

  /** Encryption or key wrapping. */
  static boolean encrypting(int opmode) {
    return opmode == Cipher.ENCRYPT_MODE || opmode == Cipher.WRAP_MODE;
  }

  static void checkMode(int opmode) throws InvalidKeyException {
    if (opmode < Cipher.ENCRYPT_MODE || opmode > Cipher.UNWRAP_MODE) {
      throw new InvalidKeyException("unknown Cipher mode " + opmode);
    }
  }

  /** ShortBufferException unless {@code out} has {@code needed} bytes from {@code outOff}. */
  static void checkRoom(byte[] out, int outOff, int needed) throws ShortBufferException {
    int room = out == null ? 0 : out.length - outOff;
    if (room < needed) {
      throw new ShortBufferException("output buffer too small: " + needed + " bytes needed, " + Math.max(room, 0) + " given");
    }
  }

  /** A doFinal into the caller's buffer: {@code (out, outOff) -> bytes written}. */
  @FunctionalInterface
  interface FinalInto {
    int run(byte[] out, int outOff) throws ShortBufferException, IllegalBlockSizeException, BadPaddingException;
  }

  /**
   * The array form of doFinal over its buffer form: an output of {@code size} bytes (the output
   * size the cipher computed), cut to what was written, the longer copy wiped.
   */
  static byte[] finalToArray(int size, FinalInto f) throws IllegalBlockSizeException, BadPaddingException {
    byte[] out = new byte[size];
    try {
      int n = f.run(out, 0);
      if (n == out.length) {
        return out;
      }
      byte[] exact = java.util.Arrays.copyOf(out, n);
      wipe(out);
      return exact;
    } catch (ShortBufferException e) {
      throw new IllegalStateException("output size miscomputed", e);
    }
  }

  static void wipe(byte[] b) {
    if (b != null) {
      Arrays.fill(b, (byte) 0);
    }
  }

  /** Input of length 0 when the caller passed null. */
  static byte[] orEmpty(byte[] in) {
    return in == null ? new byte[0] : in;
  }

  /** A growable byte buffer that wipes what it drops (it may hold plaintext). */
  static final class Buffer {
    private byte[] data = new byte[0];
    private int size;

    int size() {
      return size;
    }

    /** The live array (valid up to {@link #size()}). */
    byte[] array() {
      return data;
    }

    void append(byte[] in, int off, int len) {
      if (len == 0) {
        return;
      }
      if (size + len > data.length) {
        byte[] bigger = new byte[Math.max(size + len, Math.max(32, data.length * 2))];
        System.arraycopy(data, 0, bigger, 0, size);
        wipe(data);
        data = bigger;
      }
      System.arraycopy(in, off, data, size, len);
      size += len;
    }

    /** Drops the first {@code n} bytes. */
    void consume(int n) {
      System.arraycopy(data, n, data, 0, size - n);
      Arrays.fill(data, size - n, size, (byte) 0);
      size -= n;
    }

    /** The buffered bytes followed by {@code in[off, off+len)}, as one new array. */
    byte[] joined(byte[] in, int off, int len) {
      byte[] all = new byte[size + len];
      System.arraycopy(data, 0, all, 0, size);
      if (len > 0) {
        System.arraycopy(in, off, all, size, len);
      }
      return all;
    }

    void clear() {
      Arrays.fill(data, 0, size, (byte) 0);
      size = 0;
    }
  }
}
