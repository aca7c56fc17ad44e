package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmSecretKey;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.ProviderException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.MacSpi;

/**
 * HMAC (CKM_SHA_1_HMAC .. CKM_SHA512_HMAC) and AES-CMAC (CKM_AES_CMAC) with a secret key in the
 * token: an {@link HsmSecretKey} of type CKK_GENERIC_SECRET (or the matching CKK_SHA*_HMAC) for
 * HMAC, CKK_AES for CMAC.
 *
 * <p><b>Software keys</b> (a SecretKeySpec, any key that is not an HsmKit key) are handed to the
 * JDK's Mac of the same name (SunJCE), which then does the work. SupportedKeyClasses keeps them
 * away from HsmKit in delayed provider selection, but JCA binds the first provider before it sees
 * the key when {@code getMacLength()} is called before {@code init}, and JSSE's TLS 1.3 key
 * schedule (its HKDF) does exactly that: refusing the key would break every TLS 1.3 handshake
 * once HsmKit is first in the provider list. The key is in the JVM already; the token would add
 * no protection. (There is no software AESCMAC in the JDK: such a key is refused.)
 *
 * <p><b>Key length.</b> A token may refuse short HMAC keys: SoftHSM2 2.6.1 wants at least the
 * hash length (32 bytes for SHA-256). Its mechanism info gives ulMinKeySize in bytes (SHA256-HMAC:
 * 32..512, as PKCS#11 counts generic secret key lengths), and {@code init} refuses a shorter key
 * with InvalidKeyException "the token needs ≥ N bytes", instead of failing later in doFinal.
 *
 * <p><b>Update: buffered, then streamed, measured.</b> Data is kept in memory and MACed with one
 * C_SignInit + C_Sign in doFinal, which holds no session between update calls. Past 64 KiB a
 * session is borrowed and the data streamed with C_SignUpdate, the session held until doFinal or
 * reset. Measured on SoftHSM2 2.6.1, HMAC-SHA256, one thread, each message in 16 updates, the
 * variants alternating, mean of 5 rounds, range of two runs (SignatureStreamingBench); ms per MAC:
 *
 * <pre>
 *                               1 KiB         4 KiB         16 KiB        32 KiB        64 KiB        1 MiB
 *   buffered, one C_Sign        0.011-0.021   0.014-0.016   0.024         0.038-0.041   0.068         1.36-1.40
 *   held session, C_SignUpdate  0.017-0.034   0.019         0.028-0.029   0.042-0.044   0.067-0.085   0.94-0.98
 *   this SPI                    0.011-0.026   0.014-0.015   0.024-0.027   0.039-0.040   0.069-0.074   0.94-0.95
 * </pre>
 *
 * Each C_SignUpdate is a JNA call plus SoftHSM2's per-call work, more than copying into a Java
 * array, so buffering wins by a third at 1 KiB; the two meet at 64 KiB; past that, the large copy
 * into native memory costs more than the calls (streaming wins by 30 % at 1 MiB). The threshold is
 * the crossing point, 64 KiB ({@link SignatureSupport#STREAM_AFTER}).
 *
 * <p><b>Truncated tags.</b> The JCA Mac has no verify; callers that check a truncated tag compute
 * the full MAC and compare its prefix with {@link java.security.MessageDigest#isEqual}.
 *
 * <p>A Mac dropped in the middle of a streamed message (more than 64 KiB, no doFinal or reset)
 * keeps its session until it is garbage-collected; the pool then closes it and counts a leak.
 *
 * <p>Cloneable while nothing was streamed (a buffered state copies); a streamed state cannot be
 * cloned, as a PKCS#11 session cannot be forked.
 */
public final class TokenMac extends MacSpi implements Cloneable {
  private final TokenContext token;
  private final String algorithm;
  private final long mechanism;
  private final int macLength;
  /** The mechanism, built once: HMAC and CMAC take no parameters, and Mechanism is immutable. */
  private final Mechanism mech;
  /** The key types the mechanism takes. */
  private final long[] keyTypes;

  private HsmSecretKey key;
  private SignatureBuffer buffer = new SignatureBuffer(256);
  private Session held;
  /** The JDK's Mac when the key is a software key. */
  private Mac software;

  /**
   * @param mechanism CKM_SHA*_HMAC or CKM_AES_CMAC
   * @param macLength bytes of MAC it returns
   * @param keyTypes the CKK_ values of keys it takes
   */
  public TokenMac(TokenContext token, String algorithm, long mechanism, int macLength, long... keyTypes) {
    this.token = token;
    this.algorithm = algorithm;
    this.mechanism = mechanism;
    this.macLength = macLength;
    this.mech = Mechanism.of(mechanism);
    this.keyTypes = keyTypes.clone();
  }

  @Override
  protected int engineGetMacLength() {
    return macLength;
  }

  @Override
  protected void engineInit(Key k, AlgorithmParameterSpec params) throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException(algorithm + " takes no parameters");
    }
    engineReset();
    key = null;
    software = null;
    if (k != null && !(k instanceof HsmKey)) {
      software = jdkMac(k);
      return;
    }
    HsmSecretKey sk = HsmKeys.require(k, token, HsmSecretKey.class);
    if (Arrays.stream(keyTypes).noneMatch(t -> t == sk.keyType())) {
      throw new InvalidKeyException(algorithm + " cannot use a " + CKK.name(sk.keyType()) + " key (" + sk.getAlgorithm() + ")");
    }
    MechanismInfo info = token.mechanisms().get(mechanism);
    int bytes = sk.bits() / 8;
    if (info != null && bytes > 0 && bytes < info.minKeySize()) {
      throw new InvalidKeyException(algorithm + ": the key has " + bytes + " bytes; the token needs ≥ " + info.minKeySize() + " bytes");
    }
    if (info != null && bytes > 0 && info.maxKeySize() > 0 && bytes > info.maxKeySize()) {
      throw new InvalidKeyException(algorithm + ": the key has " + bytes + " bytes; the token takes ≤ " + info.maxKeySize() + " bytes");
    }
    key = sk;
  }

  private Mac jdkMac(Key k) throws InvalidKeyException {
    Mac m;
    try {
      try {
        m = Mac.getInstance(algorithm, "SunJCE");
      } catch (NoSuchProviderException | NoSuchAlgorithmException e) {
        m = Mac.getInstance(algorithm); // delayed selection: HsmKit declines software keys
      }
    } catch (NoSuchAlgorithmException e) {
      throw new InvalidKeyException(algorithm + ": not an HsmKit key, and the JVM has no software " + algorithm
          + "; import the key into the token", e);
    }
    m.init(k);
    return m;
  }

  private void requireKey() {
    if (key == null) {
      throw new IllegalStateException(algorithm + " is not initialized");
    }
  }

  @Override
  protected void engineUpdate(byte input) {
    engineUpdate(new byte[] {input}, 0, 1);
  }

  @Override
  protected void engineUpdate(byte[] input, int offset, int len) {
    if (software != null) {
      software.update(input, offset, len);
      return;
    }
    requireKey();
    if (len == 0) {
      return;
    }
    if (held == null && !SignatureSupport.streams(token, buffer.size() + (long) len)) {
      buffer.append(input, offset, len);
      return;
    }
    try {
      if (held == null) {
        held = SignatureSupport.begin(token, key, mech, true);
        if (buffer.size() > 0) {
          held.signUpdate(buffer.array(), 0, buffer.size());
          buffer.clear();
        }
      }
      held.signUpdate(input, offset, len);
    } catch (Pkcs11Exception e) {
      engineReset();
      throw Errors.provider(algorithm + " C_SignUpdate", e);
    } catch (InvalidKeyException e) {
      engineReset();
      throw new ProviderException(algorithm + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected byte[] engineDoFinal() {
    if (software != null) {
      return software.doFinal();
    }
    requireKey();
    byte[] out = new byte[macLength];
    try {
      int n;
      if (held != null) {
        n = held.signFinal(out, 0, out.length);
      } else {
        Mechanism m = mech;
        byte[] in = buffer.array();
        int len = buffer.size();
        n = SignatureSupport.withKey(token, key, (s, h) -> s.sign(m, h, in, 0, len, out, 0));
      }
      if (n != macLength) {
        throw new ProviderException(algorithm + ": the token returned " + n + " bytes, expected " + macLength);
      }
      return out;
    } catch (Pkcs11Exception e) {
      // Mac.doFinal has no checked exception for a refused key or a device error.
      throw Errors.provider(algorithm + " " + e.function(), e);
    } catch (InvalidKeyException e) {
      throw new ProviderException(algorithm + ": " + e.getMessage(), e);
    } finally {
      engineReset();
    }
  }

  @Override
  protected void engineReset() {
    if (software != null) {
      software.reset();
    }
    Session s = held;
    held = null;
    SignatureSupport.release(s);
    buffer.clear();
  }

  @Override
  public Object clone() throws CloneNotSupportedException {
    if (held != null) {
      throw new CloneNotSupportedException(algorithm + ": a MAC streamed into a token session cannot be cloned");
    }
    TokenMac c = (TokenMac) super.clone();
    c.buffer = buffer.clone();
    if (software != null) {
      c.software = (Mac) software.clone();
    }
    return c;
  }
}
