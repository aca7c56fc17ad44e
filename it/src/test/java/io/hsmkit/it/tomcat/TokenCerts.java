package io.hsmkit.it.tomcat;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A TLS server key pair generated in the token and its self-signed certificate, signed in the
 * token with Bouncy Castle's certificate builder, stored under an alias through the HsmKit
 * KeyStore (so Tomcat finds both by that alias).
 */
final class TokenCerts {
  private TokenCerts() {}

  /** What kind of key: the generator's algorithm and parameter, and the certificate's signature. */
  enum Kind {
    RSA("RSA", "SHA256withRSA"),
    EC("EC", "SHA256withECDSA");

    final String keyAlgorithm;
    final String signatureAlgorithm;

    Kind(String keyAlgorithm, String signatureAlgorithm) {
      this.keyAlgorithm = keyAlgorithm;
      this.signatureAlgorithm = signatureAlgorithm;
    }
  }

  /**
   * Generates the key pair in the token (RSA-2048 or EC P-256), makes a certificate for
   * CN=localhost with SAN DNS:localhost and IP:127.0.0.1, and stores key and certificate under
   * {@code alias} with {@code KeyStore.getInstance("HsmKit", hsmkit).setKeyEntry}.
   */
  static X509Certificate create(Provider hsmkit, char[] pin, String alias, Kind kind) throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance(kind.keyAlgorithm, hsmkit);
    if (kind == Kind.RSA) {
      kpg.initialize(2048);
    } else {
      kpg.initialize(new ECGenParameterSpec("secp256r1"));
    }
    KeyPair kp = kpg.generateKeyPair();

    X500Name name = new X500Name("CN=localhost, OU=" + alias + ", O=HsmKit tests");
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
        new Date(now - 3_600_000L), new Date(now + 2 * 86_400_000L), name, kp.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true,
        new KeyUsage(kind == Kind.RSA ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    X509Certificate cert = new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder(kind.signatureAlgorithm).setProvider(hsmkit).build(kp.getPrivate())));
    cert.verify(cert.getPublicKey()); // signed in the token, verified in software

    KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit);
    ks.load(null, pin);
    ks.setKeyEntry(alias, kp.getPrivate(), null, new Certificate[] {cert});
    return cert;
  }
}
