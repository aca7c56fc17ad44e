package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;
import io.hsmkit.provider.keys.HsmEcPrivateKey;

/** KeyAgreement services. */
public final class KeyAgreementServices {
  private KeyAgreementServices() {}

  static void register(ServiceTable t) {
    // Our side must be a token key; a software private key goes to the JDK's ECDH.
    t.add("KeyAgreement", "ECDH", EcdhKeyAgreement.class, EcdhKeyAgreement::new)
        .keyClasses(HsmEcPrivateKey.class)
        .anyOf(CKM.ECDH1_DERIVE);
  }
}
