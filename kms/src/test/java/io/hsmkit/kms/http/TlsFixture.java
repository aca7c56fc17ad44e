package io.hsmkit.kms.http;

import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A fresh SoftHSM2 token for one test class, an HsmKit provider on it (PIN from a 0600 file, as
 * an administrator configures it), its KeyStore, and the endpoint's certificates issued in it;
 * plus the client side: trust managers made from nothing but the CA's PEM, as a client that is
 * handed {@code AWS_CA_BUNDLE} would make them.
 */
final class TlsFixture implements AutoCloseable {
  static final String CA_ALIAS = "kms-endpoint-ca";
  static final String TLS_ALIAS = "kms-endpoint-tls";

  final TestToken token;
  final HsmKitProvider hsmkit;
  final KeyStore keyStore;
  final EndpointCertificates.Issued certs;
  final Path caPemFile;

  private TlsFixture(TestToken token, HsmKitProvider hsmkit, KeyStore keyStore, EndpointCertificates.Issued certs, Path caPemFile) {
    this.token = token;
    this.hsmkit = hsmkit;
    this.keyStore = keyStore;
    this.certs = certs;
    this.caPemFile = caPemFile;
  }

  static TlsFixture create(String name) throws Exception {
    TestToken t = TestToken.create(name, name);
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    Path pin = dir.resolve("user.pin");
    Files.deleteIfExists(pin);
    Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pin, new String(t.userPin()), StandardCharsets.UTF_8);
    Path cfg = dir.resolve("hsmkit.cfg");
    Files.writeString(cfg, "library = " + t.library() + "\ntokenLabel = " + t.label() + "\npin = file:" + pin + "\nmaxSessions = 8\n");
    HsmKitProvider p = new HsmKitProvider(cfg.toString());
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null); // logged in by the configured PIN
    EndpointCertificates.Issued certs = EndpointCertificates.issue(ks, p, CA_ALIAS, TLS_ALIAS, List.of("localhost"),
        List.of(InetAddress.getByName("127.0.0.1")), Duration.ofDays(2));
    Path caPem = Files.writeString(dir.resolve("ca.pem"), certs.caPem());
    return new TlsFixture(t, p, ks, certs, caPem);
  }

  /** Trust managers that trust only the CA in {@code pem}. */
  static TrustManager[] trustManagers(String pem) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      trust.setCertificateEntry("ca" + i++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return tmf.getTrustManagers();
  }

  SSLContext clientSsl() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, trustManagers(Files.readString(caPemFile)), null);
    return ctx;
  }

  @Override
  public void close() throws IOException {
    hsmkit.tokenContext().close();
  }
}
