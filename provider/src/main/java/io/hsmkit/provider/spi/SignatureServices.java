package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/** Signature services. */
public final class SignatureServices {
  private SignatureServices() {}

  static void register(ServiceTable t) {
  }
}
