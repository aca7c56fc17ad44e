package io.hsmkit.provider.signature;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Principal;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * JSSE signs its handshakes with HsmKit keys through JCA alone: a TLS server whose private key is
 * a sensitive token key (so only HsmKit can sign with it) completes TLS 1.3 (RSASSA-PSS with a
 * PSSParameterSpec, ecdsa_secp256r1_sha256) and TLS 1.2 handshakes with a JDK client, which
 * verifies with the certificate's software public key (JCA's delayed selection sends that to the
 * JDK). HsmKit is inserted first in the provider list and removed afterwards. The client asks for
 * rsa_pkcs1_sha256 first, so TLS 1.2 with RSA signs with SHA256withRSA and TLS 1.3 (where PKCS#1
 * is not allowed) with RSASSA-PSS.
 */
class SignatureTlsTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext ctx;

  @BeforeAll
  static void setUp() {
    // The client's preference (read once, when JSSE loads): PKCS#1 first, so that TLS 1.2 signs
    // with SHA256withRSA; TLS 1.3 forbids PKCS#1 in the handshake and uses RSASSA-PSS.
    System.setProperty("jdk.tls.client.SignatureSchemes", "rsa_pkcs1_sha256,ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,rsa_pss_rsae_sha256");
    fx = ProviderFixture.create("SignatureTlsTest");
    p = fx.provider();
    ctx = p.tokenContext();
  }

  @AfterAll
  static void tearDown() {
    PoolStats st = ctx.pool().stats();
    ctx.close();
    assertThat(st.borrowed()).isZero();
    assertThat(st.leaked()).isZero();
  }

  private static final java.util.Map<String, KeyStore.PrivateKeyEntry> MADE = new java.util.HashMap<>();

  /** A self-signed certificate and its JDK key, made by keytool (once per kind). */
  static KeyStore.PrivateKeyEntry keytool(String keyalg, String sizeOrCurve, String sigalg) throws Exception {
    String kind = keyalg + sizeOrCurve + sigalg;
    if (!MADE.containsKey(kind)) {
      MADE.put(kind, runKeytool(keyalg, sizeOrCurve, sigalg));
    }
    return MADE.get(kind);
  }

  private static KeyStore.PrivateKeyEntry runKeytool(String keyalg, String sizeOrCurve, String sigalg) throws Exception {
    Path dir = Files.createTempDirectory(fx.configFile.getParent(), "tls");
    Path ks = dir.resolve("k.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process pr = new ProcessBuilder(keytool, "-genkeypair", "-alias", "k", "-keyalg", keyalg,
        keyalg.equals("EC") ? "-groupname" : "-keysize", sizeOrCurve, "-sigalg", sigalg, "-dname", "CN=localhost",
        "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "changeit")
        .redirectErrorStream(true).start();
    String out = new String(pr.getInputStream().readAllBytes());
    assertThat(pr.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(pr.exitValue()).as(out).isZero();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ks)) {
      store.load(in, "changeit".toCharArray());
    }
    return (KeyStore.PrivateKeyEntry) store.getEntry("k", new KeyStore.PasswordProtection("changeit".toCharArray()));
  }

  /** A key manager with one alias: the token key and the certificate. */
  static final class TokenKeyManager extends X509ExtendedKeyManager {
    final PrivateKey key;
    final X509Certificate cert;

    TokenKeyManager(PrivateKey key, X509Certificate cert) {
      this.key = key;
      this.cert = cert;
    }

    private String match(String keyType) {
      String alg = cert.getPublicKey().getAlgorithm();
      return keyType.equals(alg) || (keyType.equals("RSASSA-PSS") && alg.equals("RSA")) || keyType.startsWith(alg + "_") ? "k" : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return match(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return match(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return match(keyType) == null ? null : new String[] {"k"};
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {cert};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }
  }

  @ParameterizedTest
  @CsvSource({
      "RSA, 2048, SHA256withRSA, TLSv1.3",
      "RSA, 2048, SHA256withRSA, TLSv1.2",
      "EC, secp256r1, SHA256withECDSA, TLSv1.3",
      "EC, secp384r1, SHA384withECDSA, TLSv1.2"})
  void handshakeIsSignedInTheToken(String keyalg, String size, String sigalg, String protocol) throws Exception {
    KeyStore.PrivateKeyEntry e = keytool(keyalg, size, sigalg);
    X509Certificate cert = (X509Certificate) e.getCertificate();
    HsmPrivateKey tokenKey = KeyImport.privateKey(ctx, e.getPrivateKey(), KeyTemplates.defaults(ctx).withToken(false));
    assertThat(tokenKey.getEncoded()).as("only the token can sign with it").isNull();

    Security.insertProviderAt(p, 1);
    try {
      SSLContext server = SSLContext.getInstance("TLS");
      server.init(new KeyManager[] {new TokenKeyManager(tokenKey, cert)}, null, null);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("k", cert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trust);
      SSLContext client = SSLContext.getInstance("TLS");
      client.init(null, tmf.getTrustManagers(), null);

      try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        ss.setEnabledProtocols(new String[] {protocol});
        CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
          try (SSLSocket s = (SSLSocket) ss.accept()) {
            int b = s.getInputStream().read();
            s.getOutputStream().write(b + 1);
            s.getOutputStream().flush();
            return b;
          } catch (Exception ex) {
            throw new IllegalStateException(ex);
          }
        });
        try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
          c.setEnabledProtocols(new String[] {protocol});
          c.getOutputStream().write(41);
          c.getOutputStream().flush();
          assertThat(c.getInputStream().read()).isEqualTo(42);
          assertThat(c.getSession().getProtocol()).isEqualTo(protocol);
          assertThat(c.getSession().getPeerCertificates()[0]).isEqualTo(cert);
        }
        assertThat(served.get(30, TimeUnit.SECONDS)).isEqualTo(41);
      }
    } finally {
      Security.removeProvider(p.getName());
    }
  }
}
