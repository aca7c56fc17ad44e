package io.hsmkit.provider.keys;

import javax.crypto.SecretKey;

/** A secret key in the token (AES, generic secret, HMAC). Its value never leaves unless extractable and not sensitive. */
public final class HsmSecretKey extends HsmKey implements SecretKey {
  private static final long serialVersionUID = 1L;
  private final int bits;

  public HsmSecretKey(KeyInfo info, String algorithm, int bits) {
    super(info, algorithm);
    this.bits = bits;
  }

  /** CKA_VALUE_LEN in bits. */
  public int bits() {
    return bits;
  }
}
