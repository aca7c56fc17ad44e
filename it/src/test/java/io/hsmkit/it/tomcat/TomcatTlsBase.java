package io.hsmkit.it.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmPrivateKey;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Embedded Tomcat 11 serving HTTPS with an RSA-2048 and an EC P-256 key that live in a SoftHSM2
 * token, reached through the HsmKit KeyStore ({@code certificateKeystoreType="HsmKit"},
 * {@code certificateKeystoreProvider="HsmKit"}), driven by curl, openssl s_client and Java's
 * HttpClient, then by 200 concurrent handshakes against a session pool of 4.
 *
 * <p>Subclasses choose where HsmKit goes in the JVM's provider list (Tomcat only needs it
 * registered under its name): first, as {@code security.provider.1=HsmKit <cfg>} does, or after
 * the JDK's providers. Each subclass runs in its own JVM with its own token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TomcatTlsBase {
  static final String RSA_ALIAS = "tls-rsa";
  static final String EC_ALIAS = "tls-ec";
  static final int MAX_SESSIONS = 4;
  static final int CONCURRENT_HANDSHAKES = 200;

  /** True: HsmKit is inserted at position 1; false: appended after the JDK's providers. */
  abstract boolean hsmkitFirst();

  /** The token's directory name and label. */
  abstract String tokenName();

  TokenFiles files;
  HsmKitProvider hsmkit;
  X509Certificate rsaCert;
  X509Certificate ecCert;
  Path caPem;
  EmbeddedTomcat server;

  @BeforeAll
  void startTomcat() throws Exception {
    files = TokenFiles.create(tokenName(), tokenName(), MAX_SESSIONS);
    hsmkit = new HsmKitProvider(files.config().toString());
    if (hsmkitFirst()) {
      assertThat(Security.insertProviderAt(hsmkit, 1)).as("HsmKit was already registered").isEqualTo(1);
    } else {
      assertThat(Security.addProvider(hsmkit)).as("HsmKit was already registered").isEqualTo(Security.getProviders().length);
    }

    char[] pin = files.token().userPin();
    rsaCert = TokenCerts.create(hsmkit, pin, RSA_ALIAS, TokenCerts.Kind.RSA);
    ecCert = TokenCerts.create(hsmkit, pin, EC_ALIAS, TokenCerts.Kind.EC);
    caPem = Files.writeString(files.dir().resolve("ca.pem"), Pem.encode(rsaCert, ecCert));

    // Tomcat loads the keystore with a null stream when the file is "NONE" or empty: both tested.
    server = EmbeddedTomcat.start(files.dir().resolve("tomcat"), hsmkit.getName(), List.of(
        new EmbeddedTomcat.Cert(SSLHostConfigCertificate.Type.RSA, RSA_ALIAS, "NONE", files.pin()),
        new EmbeddedTomcat.Cert(SSLHostConfigCertificate.Type.EC, EC_ALIAS, "", files.pin())));
    System.out.printf("%s: HsmKit at position %d of %d; Tomcat on 127.0.0.1:%d; %d session objects in the token after start%n",
        getClass().getSimpleName(), position(hsmkit), Security.getProviders().length, server.port(), sessionObjects());
  }

  @AfterAll
  void stopTomcat() {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      if (hsmkit != null) {
        Security.removeProvider(hsmkit.getName());
        PoolStats st = hsmkit.tokenContext().pool().stats();
        hsmkit.tokenContext().close();
        assertThat(st.borrowed()).as("sessions still borrowed after Tomcat stopped: " + st).isZero();
        assertThat(st.leaked()).as("leaked sessions: " + st).isZero();
      }
    }
  }

  static int position(Provider p) {
    return Arrays.asList(Security.getProviders()).indexOf(p) + 1;
  }

  /** Session (CKA_TOKEN=false) objects this application has in the token now. */
  int sessionObjects() {
    return hsmkit.tokenContext().execute(s -> s.findObjects(Attribute.bool(CKA.TOKEN, false)).length);
  }

  /**
   * Session objects once garbage collection has had its say (a provider may destroy the objects of
   * keys nobody holds any more, as SunPKCS11 does): collects until the count stops moving.
   */
  int settledSessionObjects() throws InterruptedException {
    int last = -1;
    for (int i = 0; i < 30; i++) {
      System.gc();
      Thread.sleep(100);
      int now = sessionObjects();
      if (now == last) {
        return now;
      }
      last = now;
    }
    return last;
  }

  X509Certificate expected(String kind) {
    return kind.equals("RSA") ? rsaCert : ecCert;
  }

  void assertTokenCertificate(X509Certificate seen, String kind) throws CertificateEncodingException {
    if (kind.equals("ANY")) {
      assertThat(List.of(rsaCert, ecCert)).as("the server's certificate is one of the token's").contains(seen);
    } else {
      assertThat(seen.getEncoded()).as("the server's certificate is the token's " + kind + " certificate").isEqualTo(expected(kind).getEncoded());
    }
  }

  @Test
  void tomcatGetsTokenKeysThatStayInTheToken() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit.getName());
    ks.load(null, null); // the configuration's pin has logged in
    for (String alias : List.of(RSA_ALIAS, EC_ALIAS)) {
      Key k = ks.getKey(alias, null);
      assertThat(k).isInstanceOf(HsmPrivateKey.class);
      // Tomcat copies a key whose format is PKCS#8 into a software keystore; a token key says null.
      assertThat(k.getFormat()).isNull();
      assertThat(k.getEncoded()).isNull();
      assertThat(k).isInstanceOf(alias.equals(RSA_ALIAS) ? RSAKey.class : ECKey.class);
      Certificate[] chain = ks.getCertificateChain(alias);
      assertThat(chain).hasSize(1);
      assertThat(chain[0]).isEqualTo(alias.equals(RSA_ALIAS) ? rsaCert : ecCert);
    }
    assertThat(((RSAKey) ks.getKey(RSA_ALIAS, null)).getModulus().bitLength()).isEqualTo(2048);
    assertThat(((ECKey) ks.getKey(EC_ALIAS, null)).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
  }

  @ParameterizedTest(name = "curl {0}")
  @CsvSource(delimiter = '|', value = {
      "--tlsv1.3                                                        | TLSv1.3 | ANY",
      "--tlsv1.2 --tls-max 1.2                                          | TLSv1.2 | ANY",
      "--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256    | TLSv1.2 | RSA",
      "--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256  | TLSv1.2 | EC"})
  void curl(String options, String protocol, String kind) throws Exception {
    TlsClients.Seen seen = TlsClients.curl(server.port(), caPem, Arrays.asList(options.trim().split("\\s+")));
    assertThat(seen.status()).isEqualTo(200);
    assertThat(seen.body()).isEqualTo(EmbeddedTomcat.BODY);
    assertThat(seen.protocol()).isEqualTo(protocol);
    assertTokenCertificate(seen.leaf(), kind);
  }

  @ParameterizedTest(name = "openssl s_client {0}")
  @CsvSource(delimiter = '|', value = {
      "-tls1_3 -sigalgs rsa_pss_rsae_sha256                                      | TLSv1.3 | RSA | RSA-PSS",
      "-tls1_3 -sigalgs ecdsa_secp256r1_sha256                                   | TLSv1.3 | EC  | ECDSA",
      "-tls1_2 -sigalgs rsa_pss_rsae_sha256 -cipher ECDHE-RSA-AES128-GCM-SHA256  | TLSv1.2 | RSA | RSA-PSS",
      "-tls1_2 -sigalgs rsa_pkcs1_sha256 -cipher ECDHE-RSA-AES128-GCM-SHA256     | TLSv1.2 | RSA | RSA",
      "-tls1_2 -sigalgs ecdsa_secp256r1_sha256 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 | TLSv1.2 | EC | ECDSA"})
  void opensslSClient(String options, String protocol, String kind, String signatureType) throws Exception {
    TlsClients.Seen seen = TlsClients.opensslSClient(server.port(), caPem, Arrays.asList(options.trim().split("\\s+")), EmbeddedTomcat.BODY);
    assertThat(seen.protocol()).isEqualTo(protocol);
    assertThat(seen.signatureType()).isEqualTo(signatureType);
    assertTokenCertificate(seen.leaf(), kind);
  }

  /**
   * The same with the ephemeral key exchange forced onto P-256 (clients offer X25519 first, so
   * these are the clients without X25519: FIPS-configured, older or embedded ones).
   */
  @ParameterizedTest(name = "ECDHE on P-256: openssl s_client {0}")
  @CsvSource(delimiter = '|', value = {
      "-tls1_3 -groups P-256 -sigalgs rsa_pss_rsae_sha256                                    | TLSv1.3 | RSA | RSA-PSS",
      "-tls1_3 -groups P-256 -sigalgs ecdsa_secp256r1_sha256                                 | TLSv1.3 | EC  | ECDSA",
      "-tls1_2 -groups P-256 -sigalgs rsa_pss_rsae_sha256 -cipher ECDHE-RSA-AES128-GCM-SHA256 | TLSv1.2 | RSA | RSA-PSS",
      "-tls1_2 -groups P-256 -sigalgs ecdsa_secp256r1_sha256 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 | TLSv1.2 | EC | ECDSA"})
  void ecdheOnP256(String options, String protocol, String kind, String signatureType) throws Exception {
    opensslSClient(options, protocol, kind, signatureType);
  }

  @ParameterizedTest(name = "HttpClient {0} {1}")
  @CsvSource({
      "TLSv1.3, '',                                        ANY",
      "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,     RSA",
      "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,   EC"})
  void javaHttpClient(String protocol, String cipherSuite, String kind) throws Exception {
    SSLParameters params = new SSLParameters();
    params.setProtocols(new String[] {protocol});
    if (!cipherSuite.isEmpty()) {
      params.setCipherSuites(new String[] {cipherSuite});
    }
    HttpClient client = HttpClient.newBuilder()
        .sslContext(TlsClients.clientContext(TlsClients.trusting(rsaCert, ecCert)))
        .sslParameters(params)
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/"))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(EmbeddedTomcat.BODY);
    assertThat(r.sslSession()).isPresent();
    assertThat(r.sslSession().get().getProtocol()).isEqualTo(protocol);
    assertTokenCertificate((X509Certificate) r.sslSession().get().getPeerCertificates()[0], kind);
  }

  /** The three kinds of handshake the load mixes: protocol, cipher suite (TLS 1.2) and the certificate expected. */
  private static final String[][] LOAD_KINDS = {
      {"TLSv1.3", null, "ANY"},
      {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "RSA"},
      {"TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "EC"}};

  @Test
  void twoHundredConcurrentHandshakesWithFourSessions() throws Exception {
    int n = CONCURRENT_HANDSHAKES;
    TrustManager[] tms = TlsClients.trusting(rsaCert, ecCert);
    PoolStats before = hsmkit.tokenContext().pool().stats();
    assertThat(before.cap()).isEqualTo(MAX_SESSIONS);
    int objectsBefore = settledSessionObjects();

    AtomicInteger maxBorrowed = new AtomicInteger();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        maxBorrowed.accumulateAndGet(hsmkit.tokenContext().pool().stats().borrowed(), Math::max);
        Thread.onSpinWait();
      }
    }, "pool-sampler");
    sampler.setDaemon(true);
    sampler.start();

    ExecutorService clients = Executors.newFixedThreadPool(n);
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch go = new CountDownLatch(1);
    Map<String, AtomicInteger> seenByKind = new ConcurrentHashMap<>();
    List<Future<?>> results = new ArrayList<>();
    long t0;
    try {
      for (int i = 0; i < n; i++) {
        String[] kind = LOAD_KINDS[i % LOAD_KINDS.length];
        results.add(clients.submit(() -> {
          ready.countDown();
          go.await();
          X509Certificate leaf = handshakeAndGet(tms, kind[0], kind[1]);
          assertTokenCertificate(leaf, kind[2]);
          seenByKind.computeIfAbsent(kind[0] + " " + (leaf.equals(rsaCert) ? "RSA" : "EC"), k -> new AtomicInteger()).incrementAndGet();
          return null;
        }));
      }
      assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
      t0 = System.nanoTime();
      go.countDown(); // all 200 connect and handshake at once
      List<String> failures = new ArrayList<>();
      for (Future<?> f : results) {
        try {
          f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          Throwable c = e.getCause() != null ? e.getCause() : e;
          failures.add(c.getClass().getSimpleName() + ": " + c.getMessage());
        }
      }
      assertThat(failures).as("failed handshakes (of " + n + ")").isEmpty();
    } finally {
      clients.shutdownNow();
      sampling.set(false);
      sampler.join(5_000);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;

    // Tomcat's threads return their sessions as soon as each signature is done.
    PoolStats after = hsmkit.tokenContext().pool().stats();
    for (int i = 0; i < 50 && after.borrowed() != 0; i++) {
      Thread.sleep(100);
      after = hsmkit.tokenContext().pool().stats();
    }
    System.gc(); // a lease dropped without being returned is counted as leaked when collected
    Thread.sleep(300);
    after = hsmkit.tokenContext().pool().stats();
    System.out.printf("%s: %d concurrent handshakes in %d ms; certificates seen %s; max sessions borrowed at once %d; pool %s; "
        + "session objects in the token %d -> %d%n", getClass().getSimpleName(), n, millis, new TreeMap<>(seenByKind),
        maxBorrowed.get(), after, objectsBefore, settledSessionObjects());
    assertThat(seenByKind.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(n);
    assertThat(maxBorrowed.get()).as("sessions lent at once never exceed maxSessions").isLessThanOrEqualTo(MAX_SESSIONS);
    assertThat(after.cap()).isEqualTo(MAX_SESSIONS);
    assertThat(after.borrowed()).as(after.toString()).isZero();
    assertThat(after.leaked()).as(after.toString()).isZero();
  }

  /**
   * Serving TLS must not leave objects in the token: after 30 full handshakes (JDK client in this
   * JVM) and 6 openssl handshakes on P-256, and a garbage collection, the token holds as many
   * session objects as before.
   */
  @Test
  void handshakesLeaveNoObjectsInTheToken() throws Exception {
    TrustManager[] tms = TlsClients.trusting(rsaCert, ecCert);
    for (String[] kind : LOAD_KINDS) {
      handshakeAndGet(tms, kind[0], kind[1]); // warm-up: what the JVM makes once per certificate and caches
    }
    int before = settledSessionObjects();
    for (int i = 0; i < 30; i++) {
      String[] kind = LOAD_KINDS[i % LOAD_KINDS.length];
      handshakeAndGet(tms, kind[0], kind[1]);
    }
    int afterJdk = settledSessionObjects();
    for (int i = 0; i < 6; i++) {
      // Whether or not the handshake succeeds (ecdheOnP256 tells), it must not leave objects behind.
      Proc.run(TlsClients.TIMEOUT, Map.of(), List.of(Proc.require("openssl", "openssl"), "s_client", "-connect", "127.0.0.1:" + server.port(),
          "-groups", "P-256", i % 2 == 0 ? "-tls1_3" : "-tls1_2"), "Q\n");
    }
    int afterP256 = settledSessionObjects();
    System.out.printf("%s: session objects in the token: %d before, %d after 30 JDK handshakes, %d after 6 openssl P-256 handshakes%n",
        getClass().getSimpleName(), before, afterJdk, afterP256);
    assertThat(afterJdk).as("session objects after 30 handshakes with a JDK client in this JVM (were %d)", before).isEqualTo(before);
    assertThat(afterP256).as("session objects after 6 handshakes on P-256 (were %d)", before).isEqualTo(before);
  }

  /**
   * One full handshake (a fresh SSLContext, so no session to resume) and one request on the
   * connection; returns the server's certificate.
   */
  X509Certificate handshakeAndGet(TrustManager[] tms, String protocol, String cipherSuite) throws Exception {
    SSLContext ctx = TlsClients.clientContext(tms);
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 30_000);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "localhost", server.port(), true)) {
      s.setSoTimeout(30_000);
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      p.setProtocols(new String[] {protocol});
      if (cipherSuite != null) {
        p.setCipherSuites(new String[] {cipherSuite});
      }
      s.setSSLParameters(p);
      s.startHandshake();
      assertThat(s.getSession().getProtocol()).isEqualTo(protocol);
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      s.getInputStream().transferTo(buf);
      String response = buf.toString(StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 200").endsWith(EmbeddedTomcat.BODY);
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }
}
