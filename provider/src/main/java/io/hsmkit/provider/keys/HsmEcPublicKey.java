package io.hsmkit.provider.keys;

import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;

/** An EC public key object in the token. */
public final class HsmEcPublicKey extends HsmPublicKey implements ECPublicKey {
  private static final long serialVersionUID = 1L;
  private final transient ECPoint w;
  private final transient ECParameterSpec params;

  public HsmEcPublicKey(KeyInfo info, ECPublicKey software) {
    super(info, "EC", software);
    this.w = software.getW();
    this.params = software.getParams();
  }

  @Override
  public ECPoint getW() {
    return w;
  }

  @Override
  public ECParameterSpec getParams() {
    return params;
  }
}
