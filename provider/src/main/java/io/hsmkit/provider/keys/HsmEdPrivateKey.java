package io.hsmkit.provider.keys;

import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.util.Optional;

/** An Ed25519 private key in the token: an EdECPrivateKey (so JDK code picks Ed25519's rules) whose bytes stay in the token. */
public final class HsmEdPrivateKey extends HsmPrivateKey implements EdECPrivateKey {
  private static final long serialVersionUID = 1L;

  public HsmEdPrivateKey(KeyInfo info) {
    super(info, "EdDSA"); // the JDK's name for Ed25519 keys; JarSigner compares it with the certificate's
  }

  @Override
  public NamedParameterSpec getParams() {
    return NamedParameterSpec.ED25519;
  }

  /** Empty: the private value stays in the token. */
  @Override
  public Optional<byte[]> getBytes() {
    return Optional.empty();
  }
}
