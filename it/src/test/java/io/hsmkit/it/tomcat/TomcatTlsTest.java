package io.hsmkit.it.tomcat;

/**
 * Tomcat TLS with HsmKit registered after the JDK's providers: the setting TOMCAT.md recommends
 * ({@code security.provider.13=HsmKit /etc/hsmkit/hsmkit.cfg} on JDK 17). Tomcat finds the
 * KeyStore by provider name, and JCA's delayed provider selection still sends every signature with
 * a token key to HsmKit (the JDK's RSA and EC signatures refuse keys that are neither
 * RSAPrivateKey nor ECPrivateKey), while the JDK keeps doing what needs no token: ephemeral ECDHE
 * keys, certificate public keys, random numbers for the handshake.
 */
class TomcatTlsTest extends TomcatTlsBase {
  @Override
  boolean hsmkitFirst() {
    return false;
  }

  @Override
  String tokenName() {
    return "tomcat-tls";
  }
}
