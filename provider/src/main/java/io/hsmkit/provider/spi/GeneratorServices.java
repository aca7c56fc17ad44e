package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;

/** KeyGenerator and KeyPairGenerator services. */
public final class GeneratorServices {
  private GeneratorServices() {}

  static void register(ServiceTable t) {
    t.add("KeyGenerator", "AES", AesKeyGenerator.class, AesKeyGenerator::new).anyOf(CKM.AES_KEY_GEN);
  }
}
