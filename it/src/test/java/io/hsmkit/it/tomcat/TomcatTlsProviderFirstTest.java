package io.hsmkit.it.tomcat;

/**
 * Tomcat TLS with HsmKit inserted first in the provider list, as {@code security.provider.1=HsmKit
 * <cfg>} does. HsmKit then also answers the JDK's un-keyed look-ups ({@code
 * KeyPairGenerator.getInstance("EC")}, {@code KeyFactory.getInstance("RSA"/"EC")},
 * {@code KeyAgreement.getInstance("ECDH")}, the default {@code SecureRandom}), so JSSE's ephemeral
 * ECDHE keys and every certificate's public key become session objects in the token.
 *
 * <p>Known failures with the provider as it is (two provider patches fix them: ECDH's
 * "TlsPremasterSecret" as RAW bytes, and destroying session objects whose keys became unreachable):
 * {@code ecdheOnP256} (TLS 1.3: the ECDH "TlsPremasterSecret" is a token key whose
 * {@code getEncoded()} is null, so JSSE's HKDF hashes nothing and the client sees "bad record
 * mac"; TLS 1.2: SunJCE's master-secret generator says "Key format must be RAW") and
 * {@code handshakesLeaveNoObjectsInTheToken} (session objects are never destroyed).
 */
class TomcatTlsProviderFirstTest extends TomcatTlsBase {
  @Override
  boolean hsmkitFirst() {
    return true;
  }

  @Override
  String tokenName() {
    return "tomcat-tls-first";
  }
}
