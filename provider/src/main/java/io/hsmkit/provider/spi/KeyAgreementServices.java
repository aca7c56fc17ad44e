package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/** KeyAgreement services. */
public final class KeyAgreementServices {
  private KeyAgreementServices() {}

  static void register(ServiceTable t) {
  }
}
