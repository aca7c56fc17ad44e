package io.hsmkit.provider.spi;

import io.hsmkit.provider.internal.ServiceTable;

/**
 * Every service HsmKit can offer, one registration class per algorithm family (as Bouncy Castle
 * organises its mappings). The provider keeps the rows the token supports.
 */
public final class Services {
  private Services() {}

  private static final ServiceTable TABLE = build();

  private static ServiceTable build() {
    ServiceTable t = new ServiceTable();
    RandomServices.register(t);
    CipherServices.register(t);
    SignatureServices.register(t);
    MacServices.register(t);
    KeyAgreementServices.register(t);
    GeneratorServices.register(t);
    FactoryServices.register(t);
    t.add("KeyStore", "HsmKit", HsmKeyStore.class, HsmKeyStore::new);
    return t;
  }

  /** The full table (built once; rows are stateless). */
  public static ServiceTable table() {
    return TABLE;
  }
}
