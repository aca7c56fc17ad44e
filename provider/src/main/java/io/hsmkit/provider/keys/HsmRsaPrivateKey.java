package io.hsmkit.provider.keys;

import java.math.BigInteger;
import java.security.interfaces.RSAKey;

/**
 * An RSA private key in the token. It is an {@link RSAKey} (the modulus is public) so that JSSE and
 * jarsigner can size signatures and pick schemes, but not an RSAPrivateKey: the private exponent
 * stays in the token.
 */
public final class HsmRsaPrivateKey extends HsmPrivateKey implements RSAKey {
  private static final long serialVersionUID = 1L;
  private final BigInteger modulus;
  private final BigInteger publicExponent;

  public HsmRsaPrivateKey(KeyInfo info, BigInteger modulus, BigInteger publicExponent) {
    super(info, "RSA");
    this.modulus = modulus;
    this.publicExponent = publicExponent;
  }

  @Override
  public BigInteger getModulus() {
    return modulus;
  }

  /** The public exponent when the token stores it with the private key, else null. */
  public BigInteger publicExponent() {
    return publicExponent;
  }
}
