package io.hsmkit.provider.keys;

import java.security.PrivateKey;

/** A private key in the token. Subclasses expose the public parameters JSSE and jarsigner need. */
public abstract class HsmPrivateKey extends HsmKey implements PrivateKey {
  private static final long serialVersionUID = 1L;

  protected HsmPrivateKey(KeyInfo info, String algorithm) {
    super(info, algorithm);
  }
}
