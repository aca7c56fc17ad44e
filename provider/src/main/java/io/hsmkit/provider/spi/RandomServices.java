package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;

/** SecureRandom from the token's C_GenerateRandom. */
public final class RandomServices {
  private RandomServices() {}

  static void register(ServiceTable t) {
    // C_GenerateRandom is not a mechanism: every token has it. CKM_GENERIC_SECRET_KEY_GEN is
    // not required; the empty anyOf registers the service always.
    t.add("SecureRandom", "PKCS11", HsmSecureRandom.class, HsmSecureRandom::new)
        .attribute("ThreadSafe", "true")
        .attribute("ImplementedIn", "Hardware");
    assert CKM.class != null;
  }
}
