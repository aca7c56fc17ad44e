/**
 * PKCS#11 from Java through JNA: the typed function layer, sessions and the session pool.
 * The JNA mapping ({@code io.hsmkit.pkcs11.internal.jna}) is not exported.
 */
module io.hsmkit.pkcs11 {
  requires com.sun.jna;

  exports io.hsmkit.pkcs11;
  exports io.hsmkit.pkcs11.constants;
  exports io.hsmkit.pkcs11.raw;
  exports io.hsmkit.pkcs11.session;
  exports io.hsmkit.pkcs11.cluster;
}
