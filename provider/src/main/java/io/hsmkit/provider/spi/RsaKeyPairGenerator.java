package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmRsaPrivateKey;
import io.hsmkit.provider.keys.HsmRsaPublicKey;
import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidParameterException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.List;

/**
 * RSA key pairs generated in the token (CKM_RSA_PKCS_KEY_PAIR_GEN): 2048 bits unless asked
 * otherwise, 2048 to 4096 bits as far as the token's mechanism info allows, public exponent 65537
 * or the one of an {@link RSAKeyGenParameterSpec}. The private half can sign, decrypt and unwrap;
 * the public half can verify, encrypt and wrap. The {@link SecureRandom} argument is ignored: the
 * token uses its own generator.
 */
public final class RsaKeyPairGenerator extends HsmKeyPairGenerator {
  /** Below 2048 bits RSA no longer meets NIST SP 800-131A; above 4096 generation takes too long to be useful in a token. */
  static final int MIN_BITS = 2048;
  static final int MAX_BITS = 4096;

  private int bits = 2048;
  private BigInteger exponent = RSAKeyGenParameterSpec.F4;

  public RsaKeyPairGenerator(TokenContext token) {
    super(token);
  }

  @Override
  public void initialize(int keysize, SecureRandom random) {
    try {
      check(keysize, RSAKeyGenParameterSpec.F4);
    } catch (InvalidAlgorithmParameterException e) {
      throw new InvalidParameterException(e.getMessage());
    }
    bits = keysize;
    exponent = RSAKeyGenParameterSpec.F4;
  }

  @Override
  public void initialize(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
    if (!(params instanceof RSAKeyGenParameterSpec spec)) {
      throw new InvalidAlgorithmParameterException("RSA key generation takes an RSAKeyGenParameterSpec, not "
          + (params == null ? "null" : params.getClass().getName()));
    }
    if (spec.getKeyParams() != null) {
      throw new InvalidAlgorithmParameterException("RSA keys restricted to RSASSA-PSS parameters are not supported; generate a plain RSA key");
    }
    BigInteger e = spec.getPublicExponent() == null ? RSAKeyGenParameterSpec.F4 : spec.getPublicExponent();
    check(spec.getKeysize(), e);
    bits = spec.getKeysize();
    exponent = e;
  }

  /** The key sizes this token may generate: 2048..4096 bits within its mechanism info. */
  static int[] range(TokenContext token) {
    MechanismInfo info = token.mechanisms().get(CKM.RSA_PKCS_KEY_PAIR_GEN);
    int min = MIN_BITS;
    int max = MAX_BITS;
    if (info != null) {
      min = (int) Math.max(min, info.minKeySize());
      max = (int) Math.min(max, info.maxKeySize());
    }
    return new int[] {min, max};
  }

  private void check(int keysize, BigInteger e) throws InvalidAlgorithmParameterException {
    int[] r = range(token);
    if (keysize < r[0] || keysize > r[1]) {
      throw new InvalidAlgorithmParameterException("RSA keys of " + keysize + " bits: this token generates " + r[0] + " to " + r[1] + " bits");
    }
    if (keysize % 8 != 0) {
      throw new InvalidAlgorithmParameterException("an RSA key size is a multiple of 8 bits, not " + keysize);
    }
    // The JDK's own rules for the exponent (sun.security.rsa.RSAKeyPairGenerator): at least 3, odd, shorter than the modulus.
    if (e.compareTo(RSAKeyGenParameterSpec.F0) < 0 || !e.testBit(0) || e.bitLength() >= keysize) {
      throw new InvalidAlgorithmParameterException("the public exponent must be odd, at least 3 and shorter than the modulus");
    }
  }

  @Override
  public KeyPair generateKeyPair() {
    byte[] e = exponent.toByteArray();
    if (e[0] == 0 && e.length > 1) {
      e = java.util.Arrays.copyOfRange(e, 1, e.length);
    }
    if (token.isCluster()) {
      return ClusterKeyGen.rsa(token, bits, e);
    }
    List<Attribute> pub = List.of(
        Attribute.ulong(CKA.MODULUS_BITS, bits),
        Attribute.bytes(CKA.PUBLIC_EXPONENT, e),
        Attribute.bool(CKA.VERIFY, true),
        Attribute.bool(CKA.ENCRYPT, true),
        Attribute.bool(CKA.WRAP, true));
    List<Attribute> priv = List.of(
        Attribute.bool(CKA.SIGN, true),
        Attribute.bool(CKA.DECRYPT, true),
        Attribute.bool(CKA.UNWRAP, true));
    return generate("RSA-" + bits, CKM.RSA_PKCS_KEY_PAIR_GEN, CKK.RSA, pub, priv, (info, pk) -> {
      HsmRsaPublicKey rsa = (HsmRsaPublicKey) pk;
      return new HsmRsaPrivateKey(info, rsa.getModulus(), rsa.getPublicExponent());
    });
  }
}
