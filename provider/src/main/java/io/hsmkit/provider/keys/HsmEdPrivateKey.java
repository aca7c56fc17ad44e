package io.hsmkit.provider.keys;

import java.security.interfaces.EdECKey;
import java.security.spec.NamedParameterSpec;

/** An Ed25519 private key in the token. */
public final class HsmEdPrivateKey extends HsmPrivateKey implements EdECKey {
  private static final long serialVersionUID = 1L;

  public HsmEdPrivateKey(KeyInfo info) {
    super(info, "Ed25519");
  }

  @Override
  public NamedParameterSpec getParams() {
    return NamedParameterSpec.ED25519;
  }
}
