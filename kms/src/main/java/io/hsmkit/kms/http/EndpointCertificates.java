package io.hsmkit.kms.http;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The endpoint's TLS certificates, with both private keys in the token: a self-signed CA (EC
 * P-256, generated in the token through HsmKit's KeyPairGenerator) and a server certificate for
 * the given names and addresses signed by it in the token. Both are stored through the HsmKit
 * KeyStore: the CA under its alias with its own certificate, the server key under its alias with
 * the chain (server, CA) that Tomcat presents. Clients trust the CA, whose PEM
 * {@link Issued#caPem()} gives (for {@code AWS_CA_BUNDLE}).
 *
 * <p>EC P-256 because the token signs it fastest (a handshake costs one ECDSA signature) and
 * every current TLS client accepts it.
 */
public final class EndpointCertificates {
  private EndpointCertificates() {}

  /** The CA certificate, the server certificate and the CA as PEM. */
  public record Issued(X509Certificate ca, X509Certificate server) {
    public Issued {
      Objects.requireNonNull(ca, "ca");
      Objects.requireNonNull(server, "server");
    }

    /** The CA certificate as PEM, what a client trusts. */
    public String caPem() {
      return pem(ca);
    }
  }

  /**
   * The certificates already under {@code caAlias} and {@code serverAlias} if both are there and
   * the server certificate is still valid for a day, else new ones ({@link #issue}).
   */
  public static Issued ensure(KeyStore hsmkitKeyStore, Provider hsmkit, String caAlias, String serverAlias,
      List<String> dnsNames, List<InetAddress> addresses, Duration validity) throws GeneralSecurityException {
    Optional<Issued> have = existing(hsmkitKeyStore, caAlias, serverAlias);
    if (have.isPresent()) {
      try {
        have.get().server().checkValidity(Date.from(Instant.now().plus(1, ChronoUnit.DAYS)));
        return have.get();
      } catch (java.security.cert.CertificateException expiring) {
        // issue new ones below
      }
    }
    return issue(hsmkitKeyStore, hsmkit, caAlias, serverAlias, dnsNames, addresses, validity);
  }

  /** The CA and server certificates stored under the two aliases, if both are there. */
  public static Optional<Issued> existing(KeyStore hsmkitKeyStore, String caAlias, String serverAlias) throws GeneralSecurityException {
    Certificate[] server = hsmkitKeyStore.getCertificateChain(serverAlias);
    Certificate ca = hsmkitKeyStore.getCertificate(caAlias);
    if (server == null || server.length == 0 || !(ca instanceof X509Certificate caCert) || !hsmkitKeyStore.isKeyEntry(caAlias)) {
      return Optional.empty();
    }
    X509Certificate leaf = (X509Certificate) server[0];
    try {
      leaf.verify(caCert.getPublicKey());
    } catch (GeneralSecurityException notIssuedByThisCa) {
      return Optional.empty();
    }
    return Optional.of(new Issued(caCert, leaf));
  }

  /**
   * Generates both key pairs in the token, makes the certificates (valid from 5 minutes ago for
   * {@code validity}) and stores them, replacing whatever the aliases held.
   *
   * @param hsmkitKeyStore a loaded, logged-in HsmKit KeyStore
   * @param hsmkit the provider of that KeyStore (keys are generated and certificates signed in its token)
   * @param dnsNames DNS names of the server certificate (the first is also its CN)
   * @param addresses IP addresses of the server certificate
   */
  public static Issued issue(KeyStore hsmkitKeyStore, Provider hsmkit, String caAlias, String serverAlias,
      List<String> dnsNames, List<InetAddress> addresses, Duration validity) throws GeneralSecurityException {
    if (dnsNames.isEmpty() && addresses.isEmpty()) {
      throw new IllegalArgumentException("the server certificate needs a DNS name or an IP address");
    }
    if (caAlias.equals(serverAlias)) {
      throw new IllegalArgumentException("the CA and the server need different aliases");
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Date from = Date.from(now.minus(5, ChronoUnit.MINUTES));
    Date until = Date.from(now.plus(validity));
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      KeyPair caKeys = generate(hsmkit, hsmkitKeyStore, caAlias);
      X500Name caName = name("CN=HsmKit KMS endpoint CA " + now.toEpochMilli() + ", O=HsmKit");
      JcaX509v3CertificateBuilder cab = new JcaX509v3CertificateBuilder(caName, serial(), from, until, caName, caKeys.getPublic());
      cab.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      cab.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      cab.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(caKeys.getPublic()));
      X509Certificate ca = sign(cab, caKeys.getPrivate(), hsmkit);
      ca.verify(ca.getPublicKey());

      KeyPair serverKeys = generate(hsmkit, hsmkitKeyStore, serverAlias);
      String cn = dnsNames.isEmpty() ? addresses.get(0).getHostAddress() : dnsNames.get(0);
      X500Name serverName = name("CN=" + cn + ", O=HsmKit");
      JcaX509v3CertificateBuilder sb = new JcaX509v3CertificateBuilder(ca, serial(), from, until, serverName, serverKeys.getPublic());
      List<GeneralName> san = new ArrayList<>();
      for (String d : dnsNames) {
        san.add(new GeneralName(GeneralName.dNSName, d));
      }
      for (InetAddress a : addresses) {
        san.add(new GeneralName(GeneralName.iPAddress, a.getHostAddress()));
      }
      sb.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san.toArray(GeneralName[]::new)));
      sb.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      sb.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      sb.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      sb.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
      sb.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(serverKeys.getPublic()));
      X509Certificate server = sign(sb, caKeys.getPrivate(), hsmkit);
      server.verify(ca.getPublicKey());

      hsmkitKeyStore.setKeyEntry(caAlias, caKeys.getPrivate(), null, new Certificate[] {ca});
      hsmkitKeyStore.setKeyEntry(serverAlias, serverKeys.getPrivate(), null, new Certificate[] {server, ca});
      return new Issued(ca, server);
    } catch (CertIOException | OperatorCreationException e) {
      throw new GeneralSecurityException("cannot make the endpoint's certificates: " + e.getMessage(), e);
    }
  }

  /** An RFC 2253 name (CN first) in the usual DER order (O before CN), as X500Principal encodes it. */
  private static X500Name name(String rfc2253) {
    return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
  }

  private static KeyPair generate(Provider hsmkit, KeyStore hsmkitKeyStore, String alias) throws GeneralSecurityException {
    if (io.hsmkit.kms.backing.cluster.ClusterKeyBacking.isCluster(hsmkit)) {
      // Over a cluster the pair is made replicated under its alias at once (the cluster's KeyStore
      // stores the certificates beside a key but does not relabel one), replacing the old entry.
      hsmkitKeyStore.deleteEntry(alias);
      io.hsmkit.kms.backing.cluster.ClusterKeyBacking cb =
          new io.hsmkit.kms.backing.cluster.ClusterKeyBacking((io.hsmkit.provider.HsmKitProvider) hsmkit);
      PrivateKey priv = (PrivateKey) cb.createEc(alias, io.hsmkit.kms.backing.token.TokenKeyBacking.P256);
      return new KeyPair((java.security.PublicKey) cb.findPublic(alias), priv);
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", hsmkit);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey key, Provider hsmkit)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(hsmkit).build(key)));
  }

  private static BigInteger serial() {
    return new BigInteger(96, new SecureRandom()).setBit(95);
  }

  /**
   * Writes {@code certs} as trusted entries of a PKCS#12 trust store, for Java clients: the AWS
   * SDK for Java v2 does not read {@code AWS_CA_BUNDLE} (the AWS CLI and the Python, Go and
   * JavaScript SDKs do), but its HTTP clients use the JVM's default trust managers, so
   * {@code -Djavax.net.ssl.trustStore=<file> -Djavax.net.ssl.trustStorePassword=<password>}
   * makes a plain SDK program trust the endpoint. The password only guards the file's
   * integrity: a trust store holds no secret.
   */
  public static void writeTrustStore(java.nio.file.Path file, char[] password, X509Certificate... certs) throws GeneralSecurityException, java.io.IOException {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    for (int i = 0; i < certs.length; i++) {
      ts.setCertificateEntry("hsmkit-kms-ca-" + i, certs[i]);
    }
    java.nio.file.Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(tmp)) {
      ts.store(out, password);
    }
    java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Certificates as PEM ({@code -----BEGIN CERTIFICATE-----}, 64 columns). */
  public static String pem(X509Certificate... certs) {
    StringBuilder b = new StringBuilder();
    Base64.Encoder enc = Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (X509Certificate c : certs) {
      try {
        b.append("-----BEGIN CERTIFICATE-----\n").append(enc.encodeToString(c.getEncoded())).append("\n-----END CERTIFICATE-----\n");
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode a certificate", e);
      }
    }
    return b.toString();
  }

}
