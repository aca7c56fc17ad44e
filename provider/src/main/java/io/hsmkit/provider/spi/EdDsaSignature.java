package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEdPrivateKey;
import io.hsmkit.provider.keys.HsmEdPublicKey;
import io.hsmkit.provider.keys.HsmKey;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.EdDSAParameterSpec;

/**
 * Ed25519 in the token (CKM_EDDSA), as {@code Ed25519} and {@code EdDSA}; pure Ed25519 only (no
 * Ed25519ctx or Ed25519ph, no Ed448: SoftHSM2 2.6.1 takes no CK_EDDSA_PARAMS).
 *
 * <p>Ed25519 hashes the message twice with the key's secret prefix, so it cannot be hashed in
 * Java; and CKM_EDDSA is single-part only (PKCS#11 3.0, section 2.3.14). The message is therefore
 * buffered whole, as the JDK's own EdDSA does, and signed in one C_Sign. A signature that is not
 * 64 bytes returns false.
 */
public final class EdDsaSignature extends TokenSignatureSpi {
  private static final int SIGNATURE_BYTES = 64;

  public EdDsaSignature(TokenContext token, String algorithm) {
    super(token, algorithm);
  }

  @Override
  protected void checkKey(HsmKey key) throws InvalidKeyException {
    if (!(key instanceof HsmEdPrivateKey) && !(key instanceof HsmEdPublicKey)) {
      throw new InvalidKeyException(algorithm + " needs an Ed25519 key, not " + key.getAlgorithm() + " (" + key.getClass().getSimpleName() + ")");
    }
  }

  @Override
  protected SignatureHash javaHash() {
    return null;
  }

  @Override
  protected boolean tokenHashes() {
    return false;
  }

  @Override
  protected Mechanism mechanism() {
    return Mechanism.of(CKM.EDDSA);
  }

  @Override
  protected int tokenSignatureLength() {
    return SIGNATURE_BYTES;
  }

  @Override
  protected byte[] toToken(byte[] sig) {
    return sig.length == SIGNATURE_BYTES ? sig : null;
  }

  @Override
  protected Signature jdkSignature() throws NoSuchAlgorithmException {
    return jdk(algorithm, "SunEC");
  }

  @Override
  protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
    if (params == null) {
      return;
    }
    if (!(params instanceof EdDSAParameterSpec p)) {
      throw new InvalidAlgorithmParameterException(algorithm + " takes an EdDSAParameterSpec, not " + params.getClass().getName());
    }
    if (p.isPrehash() || p.getContext().isPresent()) {
      throw new InvalidAlgorithmParameterException(algorithm + ": the token does pure Ed25519 only (no prehash, no context)");
    }
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    return null;
  }
}
