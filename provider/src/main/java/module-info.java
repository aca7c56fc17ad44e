/**
 * The HsmKit JCA provider. Found by {@link java.util.ServiceLoader} as a
 * {@link java.security.Provider}, so {@code keytool -providerName HsmKit} and
 * {@code Security.getProvider} work on the module path as on the class path.
 */
module io.hsmkit.provider {
  requires transitive io.hsmkit.pkcs11;

  exports io.hsmkit.provider;
  exports io.hsmkit.provider.keys;

  provides java.security.Provider with io.hsmkit.provider.HsmKitProvider;
}
