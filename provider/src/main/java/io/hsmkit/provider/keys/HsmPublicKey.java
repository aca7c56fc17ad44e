package io.hsmkit.provider.keys;

import java.security.PublicKey;

/**
 * A public key object in the token. Public keys are not secret: {@link #getEncoded()} gives the
 * X.509 SubjectPublicKeyInfo, so they can leave the token and be used by any provider.
 */
public abstract class HsmPublicKey extends HsmKey implements PublicKey {
  private static final long serialVersionUID = 1L;
  private final byte[] encoded;

  protected HsmPublicKey(KeyInfo info, String algorithm, PublicKey software) {
    super(info, algorithm);
    this.encoded = software.getEncoded();
  }

  @Override
  public String getFormat() {
    return "X.509";
  }

  @Override
  public byte[] getEncoded() {
    return encoded.clone();
  }
}
