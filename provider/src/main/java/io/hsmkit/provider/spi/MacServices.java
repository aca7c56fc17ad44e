package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/** Mac services. */
public final class MacServices {
  private MacServices() {}

  static void register(ServiceTable t) {
  }
}
