package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.util.Arrays;

/**
 * What every HsmKit signature shares: key checks, where the data goes, and the session rules.
 *
 * <p><b>Where the data goes.</b> A subclass says, per operation, which of three paths it takes:
 * <ul>
 *   <li>{@link #javaHash()} not null: the data is hashed in Java as it arrives (no session is held
 *       between update calls), and the digest is signed in one C_SignInit + C_Sign. ECDSA always
 *       (SoftHSM2 has no hash-then-sign ECDSA), RSA when the token has the raw mechanism (measured
 *       faster or equal; see {@link RsaPkcs1Signature}).
 *   <li>{@link #tokenHashes()}: the token hashes (CKM_SHA256_RSA_PKCS and friends, the fallback for
 *       tokens without raw RSA). Up to {@link SignatureSupport#STREAM_AFTER} bytes are buffered and
 *       sent in one C_Sign; beyond that a session is borrowed, C_SignInit/C_SignUpdate stream the
 *       data, and the session is held until sign/verify or a new init returns it (an object
 *       dropped half-way keeps it until garbage collection, when the pool counts a leak).
 *   <li>otherwise the data is buffered whole and signed as it is (EdDSA, NONEwith*), up to
 *       {@link #bufferLimit()}.
 * </ul>
 *
 * <p><b>Keys.</b> This token's keys are used in the token. Keys of another token or provider
 * instance, and this token's keys of the wrong family, are refused with InvalidKeyException
 * ({@link HsmKeys#require}), which is what JCA's delayed provider selection needs to move on to
 * the next provider.
 *
 * <p>Software keys (any key that is not an HsmKit key) are handed to the JDK's own implementation
 * of the same algorithm (SunEC, SunRsaSign), which then does all the work. SupportedKeyClasses
 * keeps them away from HsmKit in delayed selection, but not always: JCA binds the first provider
 * before it sees a key when the caller asks for parameters first ({@code setParameter} or
 * {@code getParameters} before init), so with HsmKit first in the provider list a software key
 * can still arrive here, and refusing it would break that caller. A software key is in the JVM
 * already, so the token would add no protection; importing it would cost a C_CreateObject per key
 * and leave a session object that dies with whichever pooled session created it. To verify with a
 * public key in the token, import it first with {@code KeyImport.publicKey}.
 *
 * <p><b>Results.</b> A signature that does not verify (CKR_SIGNATURE_INVALID,
 * CKR_SIGNATURE_LEN_RANGE, or one of the wrong length or out of range before it reaches the token)
 * is {@code false}; an encoding that cannot be parsed may be a SignatureException where the JDK
 * throws one (ECDSA DER, see {@link EcdsaSignature}). Other token errors go through {@link Errors}.
 * Every sign and verify returns its session, also on errors; none is leaked.
 */
abstract class TokenSignatureSpi extends SignatureSpi {
  /** How the data of the current operation travels. */
  enum Path {
    JAVA_HASH,
    TOKEN_HASH,
    BUFFER
  }

  protected final TokenContext token;
  /** The JCA name, for messages. */
  protected final String algorithm;

  private HsmKey key;
  private boolean signing;
  /** The JDK's Signature when the key is a software key. */
  private Signature software;

  private Path path;
  private MessageDigest digest;
  private SignatureHash digestHash;
  private final SignatureBuffer buffer = new SignatureBuffer(256);
  /** The session of a streamed token-hash operation, or null. */
  private Session held;
  /** Whether data arrived since init (parameters may not change then). */
  private boolean started;

  protected TokenSignatureSpi(TokenContext token, String algorithm) {
    this.token = token;
    this.algorithm = algorithm;
  }

  // ------------------------------------------------------------------ what subclasses say

  /**
   * Checks that {@code key} (known to be a key of this token) suits this algorithm and its current
   * parameters, and remembers what the subclass needs of it (curve, modulus size).
   */
  protected abstract void checkKey(HsmKey key) throws InvalidKeyException;

  /** The hash computed in Java for this operation, or null. */
  protected abstract SignatureHash javaHash() throws SignatureException;

  /** With a null {@link #javaHash()}: true when the token hashes, false when the data is signed as is. */
  protected abstract boolean tokenHashes() throws SignatureException;

  /** The token mechanism (with parameters) for this operation. */
  protected abstract Mechanism mechanism() throws SignatureException;

  /** The token's input made of the Java digest (a DigestInfo for RSA PKCS#1). */
  protected byte[] digestToToken(byte[] digest) {
    return digest;
  }

  /** The length of the signature the token returns for the current key. */
  protected abstract int tokenSignatureLength();

  /** The JCA form of the token's signature (DER for ECDSA). */
  protected byte[] fromToken(byte[] sig) {
    return sig;
  }

  /**
   * The token's form of {@code sig}, or null when it cannot verify (wrong length, out of range):
   * verify then returns false without asking the token.
   *
   * @throws SignatureException for an encoding the JDK also refuses with an exception
   */
  protected abstract byte[] toToken(byte[] sig) throws SignatureException;

  /** For the buffered path: the most data the mechanism signs. */
  protected int bufferLimit() {
    return Integer.MAX_VALUE - 16;
  }

  /** The JDK's Signature for a software key (signing or verification). */
  protected abstract Signature jdkSignature() throws GeneralSecurityException;

  /** Sets this object's parameters on the JDK's Signature, after its init. */
  protected void configureJdk(Signature s) throws GeneralSecurityException {
    // no parameters
  }

  /** A JDK Signature from {@code preferred} (SunEC, SunRsaSign), else from any provider. */
  static Signature jdk(String name, String preferred) throws NoSuchAlgorithmException {
    try {
      return Signature.getInstance(name, preferred);
    } catch (NoSuchProviderException | NoSuchAlgorithmException e) {
      return Signature.getInstance(name);
    }
  }

  // ------------------------------------------------------------------ state, for subclasses

  /** The key of the current operation (null before init and for software verification). */
  protected final HsmKey key() {
    return key;
  }

  /** True once data was given since init (JDK rule: parameters cannot change then). */
  protected final boolean started() {
    return started;
  }

  /** The JDK's Signature in use for a software key, or null. */
  protected final Signature software() {
    return software;
  }

  // ------------------------------------------------------------------ init

  @Override
  protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
    engineInitSign(privateKey, null);
  }

  /**
   * With a token key, the token's generator makes the randomness and {@code random} is not used;
   * a software key's JDK signer gets it.
   */
  @Override
  protected void engineInitSign(PrivateKey privateKey, SecureRandom random) throws InvalidKeyException {
    resetData();
    key = null;
    software = null;
    if (privateKey == null) {
      throw new InvalidKeyException("no key");
    }
    if (privateKey instanceof HsmKey) {
      HsmPrivateKey k = HsmKeys.require(privateKey, token, HsmPrivateKey.class);
      checkKey(k);
      key = k;
    } else {
      Signature s = jdkFor(privateKey);
      if (random == null) {
        s.initSign(privateKey);
      } else {
        s.initSign(privateKey, random);
      }
      software = configured(s);
    }
    signing = true;
  }

  @Override
  protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
    resetData();
    key = null;
    software = null;
    if (publicKey == null) {
      throw new InvalidKeyException("no key");
    }
    if (publicKey instanceof HsmKey) {
      HsmPublicKey k = HsmKeys.require(publicKey, token, HsmPublicKey.class);
      checkKey(k);
      key = k;
    } else {
      Signature s = jdkFor(publicKey);
      s.initVerify(publicKey);
      software = configured(s);
    }
    signing = false;
  }

  private Signature jdkFor(java.security.Key k) throws InvalidKeyException {
    try {
      return jdkSignature();
    } catch (GeneralSecurityException e) {
      throw new InvalidKeyException(algorithm + ": no JDK implementation for a software " + k.getAlgorithm() + " key: " + e.getMessage(), e);
    }
  }

  private Signature configured(Signature s) throws InvalidKeyException {
    try {
      configureJdk(s);
      return s;
    } catch (GeneralSecurityException e) {
      throw new InvalidKeyException(algorithm + ": the JDK refused the parameters for this key: " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ update

  private Path path() throws SignatureException {
    if (path == null) {
      SignatureHash h = javaHash();
      if (h != null) {
        if (digestHash != h) {
          digest = h.newDigest();
          digestHash = h;
        }
        path = Path.JAVA_HASH;
      } else {
        path = tokenHashes() ? Path.TOKEN_HASH : Path.BUFFER;
      }
    }
    return path;
  }

  private void requireKey() throws SignatureException {
    if (key == null) {
      throw new SignatureException(algorithm + " is not initialized");
    }
  }

  @Override
  protected void engineUpdate(byte b) throws SignatureException {
    if (software != null) {
      software.update(b);
      return;
    }
    requireKey();
    Path p = path();
    started = true;
    if (p == Path.JAVA_HASH) {
      digest.update(b);
    } else {
      engineUpdate(new byte[] {b}, 0, 1);
    }
  }

  @Override
  protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
    if (software != null) {
      software.update(b, off, len);
      return;
    }
    requireKey();
    Path p = path();
    started = true;
    if (len == 0) {
      return;
    }
    switch (p) {
      case JAVA_HASH -> digest.update(b, off, len);
      case BUFFER -> {
        if ((long) buffer.size() + len > bufferLimit()) {
          resetData();
          throw new SignatureException(algorithm + " signs at most " + bufferLimit() + " bytes of data");
        }
        buffer.append(b, off, len);
      }
      case TOKEN_HASH -> streamOrBuffer(b, off, len);
    }
  }

  @Override
  protected void engineUpdate(ByteBuffer input) {
    if (software == null && key != null && input.hasRemaining()) {
      try {
        if (path() == Path.JAVA_HASH) {
          started = true;
          digest.update(input);
          return;
        }
      } catch (SignatureException e) {
        throw new ProviderException(e.getMessage(), e); // as SignatureSpi does for update(ByteBuffer)
      }
    }
    super.engineUpdate(input);
  }

  private void streamOrBuffer(byte[] b, int off, int len) throws SignatureException {
    try {
      if (held == null && !SignatureSupport.streams(token, buffer.size() + (long) len)) {
        buffer.append(b, off, len);
        return;
      }
      if (held == null) {
        held = SignatureSupport.begin(token, key, mechanism(), signing);
        if (buffer.size() > 0) {
          partUpdate(buffer.array(), 0, buffer.size());
          buffer.clear();
        }
      }
      partUpdate(b, off, len);
    } catch (Pkcs11Exception e) {
      resetData();
      throw failure("C_" + (signing ? "Sign" : "Verify") + "Update", e);
    } catch (InvalidKeyException e) {
      resetData();
      throw new SignatureException(algorithm + ": " + e.getMessage(), e);
    }
  }

  private void partUpdate(byte[] b, int off, int len) {
    if (signing) {
      held.signUpdate(b, off, len);
    } else {
      held.verifyUpdate(b, off, len);
    }
  }

  // ------------------------------------------------------------------ sign and verify

  @Override
  protected byte[] engineSign() throws SignatureException {
    if (software != null) {
      return software.sign();
    }
    requireKey();
    if (!signing) {
      throw new SignatureException(algorithm + " is initialized for verification, not signing");
    }
    try {
      Path p = path();
      Mechanism m = mechanism();
      byte[] out = new byte[tokenSignatureLength()];
      int n;
      if (held != null) {
        n = held.signFinal(out, 0, out.length);
      } else if (p == Path.JAVA_HASH) {
        byte[] in = digestToToken(digest.digest());
        n = SignatureSupport.withKey(token, key, (s, h) -> s.sign(m, h, in, 0, in.length, out, 0));
      } else {
        byte[] in = buffer.array();
        int len = buffer.size();
        n = SignatureSupport.withKey(token, key, (s, h) -> s.sign(m, h, in, 0, len, out, 0));
      }
      return fromToken(n == out.length ? out : Arrays.copyOf(out, n));
    } catch (Pkcs11Exception e) {
      throw failure("C_Sign", e);
    } catch (InvalidKeyException e) {
      throw new SignatureException(algorithm + ": " + e.getMessage(), e);
    } finally {
      resetData();
    }
  }

  @Override
  protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
    if (software != null) {
      return software.verify(sigBytes);
    }
    requireKey();
    if (signing) {
      throw new SignatureException(algorithm + " is initialized for signing, not verification");
    }
    try {
      Path p = path();
      Mechanism m = mechanism();
      byte[] sig = toToken(sigBytes);
      if (sig == null) {
        return false;
      }
      if (held != null) {
        return held.verifyFinal(sig);
      }
      if (p == Path.JAVA_HASH) {
        byte[] in = digestToToken(digest.digest());
        return SignatureSupport.withKey(token, key, (s, h) -> s.verify(m, h, in, sig));
      }
      byte[] in = Arrays.copyOf(buffer.array(), buffer.size());
      return SignatureSupport.withKey(token, key, (s, h) -> s.verify(m, h, in, sig));
    } catch (Pkcs11Exception e) {
      if (Errors.kind(e) == Errors.Kind.BAD_SIGNATURE) {
        return false;
      }
      throw failure("C_Verify", e);
    } catch (InvalidKeyException e) {
      throw new SignatureException(algorithm + ": " + e.getMessage(), e);
    } finally {
      resetData();
    }
  }

  /**
   * A token error as JCA sees it: device and other provider faults are ProviderException (as
   * SunPKCS11 does), the rest (key refused, data length) a SignatureException.
   */
  private SignatureException failure(String what, Pkcs11Exception e) {
    if (Errors.kind(e) == Errors.Kind.PROVIDER) {
      throw Errors.provider(algorithm + " " + what, e);
    }
    return Errors.signature(algorithm + " " + what, e);
  }

  /** Forgets the data of the current operation and returns a held session; the key stays. */
  protected final void resetData() {
    Session s = held;
    held = null;
    SignatureSupport.release(s);
    buffer.clear();
    if (digest != null) {
      digest.reset();
    }
    path = null;
    started = false;
  }

  // ------------------------------------------------------------------ deprecated parameter API

  @Override
  @Deprecated
  protected void engineSetParameter(String param, Object value) {
    throw new InvalidParameterException(algorithm + " has no named parameters");
  }

  @Override
  @Deprecated
  protected Object engineGetParameter(String param) {
    throw new InvalidParameterException(algorithm + " has no named parameters");
  }
}
