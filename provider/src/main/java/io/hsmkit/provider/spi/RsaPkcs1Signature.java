package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;

/**
 * RSASSA-PKCS1-v1_5 in the token: SHA1/224/256/384/512withRSA, and NONEwithRSA (the caller's data,
 * normally a DigestInfo, padded and signed as it is, at most k - 11 bytes).
 *
 * <p><b>Where hashing happens, measured.</b> Two ways were timed on SoftHSM2 2.6.1, RSA-2048,
 * SHA-256, one thread, through this SPI on two providers of one token (the second with
 * CKM_RSA_PKCS disabled), variants alternating, mean of 5 rounds, range of five runs
 * (SignatureStreamingBench); ms per operation:
 *
 * <pre>
 *                                      1 KiB            64 KiB
 *   sign    Java SHA-256 + CKM_RSA_PKCS  0.78 - 1.10      0.76 - 0.90
 *           CKM_SHA256_RSA_PKCS          0.80 - 0.92      0.76 - 1.03
 *   verify  Java SHA-256 + CKM_RSA_PKCS  0.037 - 0.068    0.083 - 0.108
 *           CKM_SHA256_RSA_PKCS          0.040 - 0.102    0.121 - 0.135
 * </pre>
 *
 * The private-key operation dominates signing, so where the hash runs is lost in the noise there
 * (either way wins single runs by up to 15 %). Verification is cheap enough for the hash to show:
 * at 64 KiB Java's SHA-256 (intrinsics, no copy) is 20-35 % faster than sending the data through
 * JNA to SoftHSM2's hash; at 1 KiB they tie. Java hashing is also the path that holds no session
 * between update calls, however long the message. So: <b>Java hashes, and the token signs the
 * DigestInfo with CKM_RSA_PKCS</b>. Only a token without CKM_RSA_PKCS (some HSMs refuse raw
 * padding to user keys) gets CKM_SHA*_RSA_PKCS, with data buffered up to 64 KiB and streamed
 * through C_SignUpdate beyond (see {@link TokenMac} for that threshold).
 *
 * <p>Verification through CKM_RSA_PKCS is encode-and-compare (the token recovers the DigestInfo,
 * checks the type-1 padding and compares it byte for byte with ours), so BER variants, missing
 * NULLs and wrong hashes are refused. A signature not exactly k bytes long returns false.
 */
public final class RsaPkcs1Signature extends TokenSignatureSpi {
  private final SignatureHash hash;
  /** True when Java hashes and the token pads with CKM_RSA_PKCS. */
  private final boolean raw;
  private int modulusBytes;

  /** @param hash the message hash, or null for NONEwithRSA */
  public RsaPkcs1Signature(TokenContext token, String algorithm, SignatureHash hash) {
    super(token, algorithm);
    this.hash = hash;
    this.raw = hash == null || token.has(CKM.RSA_PKCS);
  }

  /** The modulus size of an RSA key in bytes (HsmKit's RSA keys are {@link RSAKey}s). */
  static int modulusBytes(HsmKey key, String algorithm) throws InvalidKeyException {
    if (!(key instanceof RSAKey r) || r.getModulus() == null) {
      throw new InvalidKeyException(algorithm + " needs an RSA key, not " + key.getAlgorithm() + " (" + key.getClass().getSimpleName() + ")");
    }
    return (r.getModulus().bitLength() + 7) / 8;
  }

  @Override
  protected void checkKey(HsmKey key) throws InvalidKeyException {
    modulusBytes = modulusBytes(key, algorithm);
  }

  @Override
  protected SignatureHash javaHash() {
    return raw ? hash : null;
  }

  @Override
  protected boolean tokenHashes() {
    return !raw;
  }

  @Override
  protected Mechanism mechanism() {
    return Mechanism.of(raw ? CKM.RSA_PKCS : hash.rsaPkcs);
  }

  @Override
  protected byte[] digestToToken(byte[] digest) {
    return hash.digestInfo(digest);
  }

  @Override
  protected int bufferLimit() {
    return modulusBytes - 11; // RFC 8017 8.2.1: the padding needs 11 bytes
  }

  @Override
  protected int tokenSignatureLength() {
    return modulusBytes;
  }

  @Override
  protected byte[] toToken(byte[] sig) {
    return sig.length == modulusBytes ? sig : null;
  }

  @Override
  protected Signature jdkSignature() throws NoSuchAlgorithmException {
    // The JDK has no NONEwithRSA Signature; its RSA Cipher does the same key operation.
    return hash == null ? new SoftwareNoneWithRsa() : jdk(algorithm, "SunRsaSign");
  }

  /**
   * NONEwithRSA with a software key, on the JDK's {@code RSA/ECB/PKCS1Padding} Cipher: with the
   * private key it pads (type 1) and signs, with the public key it recovers the padded data, which
   * must equal the data (compared in constant time).
   */
  private static final class SoftwareNoneWithRsa extends Signature {
    private final SignatureBuffer data = new SignatureBuffer(64);
    private java.security.Key key;

    SoftwareNoneWithRsa() {
      super("NONEwithRSA");
    }

    private static Cipher cipher() throws GeneralSecurityException {
      try {
        return Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
      } catch (NoSuchProviderException e) {
        return Cipher.getInstance("RSA/ECB/PKCS1Padding");
      }
    }

    @Override
    protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
      if (!(publicKey instanceof RSAPublicKey)) {
        throw new InvalidKeyException("NONEwithRSA needs an RSA public key, not " + publicKey.getAlgorithm());
      }
      key = publicKey;
      data.clear();
    }

    @Override
    protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
      if (!(privateKey instanceof java.security.interfaces.RSAPrivateKey)) {
        throw new InvalidKeyException("NONEwithRSA needs an RSA private key, not " + privateKey.getAlgorithm());
      }
      key = privateKey;
      data.clear();
    }

    @Override
    protected void engineUpdate(byte b) {
      data.append(b);
    }

    @Override
    protected void engineUpdate(byte[] b, int off, int len) {
      data.append(b, off, len);
    }

    @Override
    protected byte[] engineSign() throws SignatureException {
      try {
        Cipher c = cipher();
        c.init(Cipher.ENCRYPT_MODE, key);
        return c.doFinal(data.array(), 0, data.size());
      } catch (GeneralSecurityException e) {
        throw new SignatureException("NONEwithRSA: " + e.getMessage(), e);
      } finally {
        data.clear();
      }
    }

    @Override
    protected boolean engineVerify(byte[] sig) throws SignatureException {
      try {
        if (sig.length != (((RSAPublicKey) key).getModulus().bitLength() + 7) / 8) {
          return false;
        }
        Cipher c = cipher();
        c.init(Cipher.DECRYPT_MODE, key);
        byte[] recovered = c.doFinal(sig);
        return MessageDigest.isEqual(recovered, Arrays.copyOf(data.array(), data.size()));
      } catch (BadPaddingException | IllegalBlockSizeException e) {
        return false;
      } catch (GeneralSecurityException e) {
        throw new SignatureException("NONEwithRSA: the JDK's RSA cipher failed: " + e.getMessage(), e);
      } finally {
        data.clear();
      }
    }

    @Override
    @Deprecated
    protected void engineSetParameter(String param, Object value) {
      throw new InvalidParameterException("no parameters");
    }

    @Override
    @Deprecated
    protected Object engineGetParameter(String param) {
      throw new InvalidParameterException("no parameters");
    }
  }

  @Override
  protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException(algorithm + " takes no parameters");
    }
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    return null;
  }
}
