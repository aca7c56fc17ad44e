package io.hsmkit.provider.keys;

import java.security.interfaces.ECKey;
import java.security.spec.ECParameterSpec;

/** An EC private key in the token: an {@link ECKey} with its curve, the private value stays in the token. */
public final class HsmEcPrivateKey extends HsmPrivateKey implements ECKey {
  private static final long serialVersionUID = 1L;
  private final transient ECParameterSpec params;

  public HsmEcPrivateKey(KeyInfo info, ECParameterSpec params) {
    super(info, "EC");
    this.params = params;
  }

  @Override
  public ECParameterSpec getParams() {
    return params;
  }
}
