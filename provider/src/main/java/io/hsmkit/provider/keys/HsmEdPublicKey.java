package io.hsmkit.provider.keys;

import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.NamedParameterSpec;

/** An Ed25519 public key object in the token. */
public final class HsmEdPublicKey extends HsmPublicKey implements EdECPublicKey {
  private static final long serialVersionUID = 1L;
  private final transient EdECPoint point;

  public HsmEdPublicKey(KeyInfo info, EdECPublicKey software) {
    super(info, "EdDSA", software);
    this.point = software.getPoint();
  }

  @Override
  public EdECPoint getPoint() {
    return point;
  }

  @Override
  public NamedParameterSpec getParams() {
    return NamedParameterSpec.ED25519;
  }
}
