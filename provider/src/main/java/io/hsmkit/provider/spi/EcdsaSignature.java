package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmEcPublicKey;
import io.hsmkit.provider.keys.HsmKey;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.ProviderException;
import java.security.Signature;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECParameterSpec;

/**
 * ECDSA in the token: SHA1/224/256/384/512withECDSA (DER signatures, as the JDK writes them),
 * SHA256/384/512withECDSAinP1363Format (r||s), and NONEwithECDSA (the caller's digest, at most 64
 * bytes, as SunEC allows).
 *
 * <p><b>Hashing happens in Java.</b> SoftHSM2 has no hash-then-sign ECDSA mechanism, only raw
 * CKM_ECDSA, so the message is hashed with the JDK's MessageDigest as it arrives (no session is
 * held between updates) and the digest is signed with one C_SignInit + C_Sign. A token that
 * lacks CKM_ECDSA but has CKM_ECDSA_SHA256 (and friends) is served by the token-hash path instead.
 *
 * <p><b>Verification.</b> A DER signature is parsed strictly ({@link EcdsaSignatureDer}): an
 * encoding SunEC refuses with a SignatureException gets the same exception here, a well-formed
 * one whose values cannot be a signature returns false, as in SunEC. Checked against SunEC (JDK
 * 17.0.15) on Wycheproof's P-256 and P-384 DER files: of the 620 invalid vectors, SunEC rejects
 * 618 and HsmKit rejects each of them the same way (exception or false); the other two
 * ("MissingZero") SunEC accepts, HsmKit returns false. A P1363 signature of any
 * length other than twice the order's size returns false (SunEC accepts shorter ones, which
 * Wycheproof's "SignatureSize" vectors call invalid).
 */
public final class EcdsaSignature extends TokenSignatureSpi {
  /** SunEC's RawECDSA limit for NONEwithECDSA. */
  private static final int RAW_MAX = 64;

  private final SignatureHash hash;
  private final boolean p1363;
  /** True when the token has CKM_ECDSA (so Java hashes); false: CKM_ECDSA_SHA* in the token. */
  private final boolean raw;
  private int orderBytes;

  /**
   * @param hash the message hash, or null for NONEwithECDSA
   * @param p1363 r||s signatures instead of DER
   */
  public EcdsaSignature(TokenContext token, String algorithm, SignatureHash hash, boolean p1363) {
    super(token, algorithm);
    this.hash = hash;
    this.p1363 = p1363;
    this.raw = hash == null || token.has(CKM.ECDSA);
  }

  @Override
  protected void checkKey(HsmKey key) throws InvalidKeyException {
    ECParameterSpec params;
    if (key instanceof HsmEcPrivateKey k) {
      params = k.getParams();
    } else if (key instanceof HsmEcPublicKey k) {
      params = k.getParams();
    } else {
      throw new InvalidKeyException(algorithm + " needs an EC key, not " + key.getAlgorithm() + " (" + key.getClass().getSimpleName() + ")");
    }
    if (params == null) {
      throw new InvalidKeyException(algorithm + ": the key has no curve parameters");
    }
    orderBytes = (params.getOrder().bitLength() + 7) / 8;
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
    return Mechanism.of(raw ? CKM.ECDSA : hash.ecdsa);
  }

  @Override
  protected int bufferLimit() {
    return RAW_MAX;
  }

  @Override
  protected int tokenSignatureLength() {
    return 2 * orderBytes;
  }

  @Override
  protected byte[] fromToken(byte[] rs) {
    if (rs.length != 2 * orderBytes) {
      throw new ProviderException(algorithm + ": the token returned a " + rs.length + "-byte signature, expected " + 2 * orderBytes);
    }
    return p1363 ? rs : Curves.rsToDer(rs);
  }

  @Override
  protected byte[] toToken(byte[] sig) throws java.security.SignatureException {
    if (p1363) {
      return sig.length == 2 * orderBytes ? sig : null;
    }
    return EcdsaSignatureDer.decode(sig, orderBytes);
  }

  @Override
  protected Signature jdkSignature() throws NoSuchAlgorithmException {
    return jdk(algorithm, "SunEC");
  }

  @Override
  protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
    // SunEC takes an ECParameterSpec naming the key's curve; anything else is refused.
    if (params != null && !(params instanceof ECParameterSpec)) {
      throw new InvalidAlgorithmParameterException(algorithm + " takes no parameters but the curve (an ECParameterSpec), not " + params.getClass().getName());
    }
    if (params instanceof ECParameterSpec ec && key() != null && (ec.getOrder().bitLength() + 7) / 8 != orderBytes) {
      throw new InvalidAlgorithmParameterException(algorithm + ": the parameters name another curve than the key's");
    }
  }

  @Override
  protected java.security.AlgorithmParameters engineGetParameters() {
    return null;
  }
}
