package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/** Cipher services. */
public final class CipherServices {
  private CipherServices() {}

  static void register(ServiceTable t) {
  }
}
