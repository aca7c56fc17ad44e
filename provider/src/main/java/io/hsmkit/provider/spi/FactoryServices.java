package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/** Factory services. */
public final class FactoryServices {
  private FactoryServices() {}

  static void register(ServiceTable t) {
  }
}
