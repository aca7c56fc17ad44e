package io.hsmkit.provider.keys;

import java.math.BigInteger;
import java.security.interfaces.RSAPublicKey;

/** An RSA public key object in the token. */
public final class HsmRsaPublicKey extends HsmPublicKey implements RSAPublicKey {
  private static final long serialVersionUID = 1L;
  private final BigInteger modulus;
  private final BigInteger exponent;

  public HsmRsaPublicKey(KeyInfo info, RSAPublicKey software) {
    super(info, "RSA", software);
    this.modulus = software.getModulus();
    this.exponent = software.getPublicExponent();
  }

  @Override
  public BigInteger getModulus() {
    return modulus;
  }

  @Override
  public BigInteger getPublicExponent() {
    return exponent;
  }
}
