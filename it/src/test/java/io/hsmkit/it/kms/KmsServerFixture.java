package io.hsmkit.it.kms;

import io.hsmkit.kms.access.Principals;
import io.hsmkit.kms.server.KmsServer;
import io.hsmkit.kms.server.KmsServerConfig;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A KmsServer over HTTPS on a fresh SoftHSM2 token (one per test class; PIN in a 0600 file as an
 * administrator configures it), plus cluster tokens for custom key stores in the same token
 * directory, and SDK clients configured as an application would from the printed environment:
 * endpoint override, region, access key pair, and trust in nothing but the printed CA.
 */
final class KmsServerFixture implements AutoCloseable {
  static final String SO_PIN = "it-cks-so-pin";

  final TestToken token;
  final KmsServer server;
  final String rootAccessKeyId;
  final String rootSecret;
  /** The HsmKit configuration file of the token (with its PIN file). */
  final Path configFile;
  private final TrustManager[] trust;

  private KmsServerFixture(TestToken token, KmsServer server, String rootAccessKeyId, String rootSecret, Path configFile) throws Exception {
    this.token = token;
    this.configFile = configFile;
    this.server = server;
    this.rootAccessKeyId = rootAccessKeyId;
    this.rootSecret = rootSecret;
    this.trust = trustManagers(Files.readString(server.caBundle().orElseThrow()));
  }

  /** The kmsuser PIN of cluster token {@code label}. */
  static String kmsuserPin(String label) {
    return "kmsuser-" + label;
  }

  /**
   * Starts a server named {@code name} on H2 (or on the given JDBC URL), with clusters
   * {@code cluster-<label>} on tokens labelled {@code label} whose user PIN is {@link #kmsuserPin}.
   */
  static KmsServerFixture start(String name, String jdbcUrl, String... clusterLabels) throws Exception {
    return start(name, jdbcUrl, c -> c, clusterLabels);
  }

  static KmsServerFixture start(String name, String jdbcUrl, UnaryOperator<KmsServerConfig> tweak, String... clusterLabels) throws Exception {
    TestToken t = TestToken.create(name, name);
    Map<String, String> clusters = new java.util.LinkedHashMap<>();
    for (String label : clusterLabels) {
      run(t.conf(), "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", kmsuserPin(label));
      clusters.put("cluster-" + label, "--library=" + t.library() + " tokenLabel=" + label);
    }
    Path dir = TestToken.buildDir().resolve("kms-it").resolve(name);
    Files.createDirectories(dir);
    Path pin = dir.resolve("user.pin");
    Files.deleteIfExists(pin);
    Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pin, new String(t.userPin()), StandardCharsets.UTF_8);
    Path cfg = dir.resolve("hsmkit.cfg");
    Files.writeString(cfg, "library = " + t.library() + "\ntokenLabel = " + t.label() + "\npin = file:" + pin + "\nmaxSessions = 16\n");
    Path state = dir.resolve("state");
    deleteTree(state); // a fresh database, as the token is fresh
    KmsServerConfig config = KmsServerConfig.of(cfg.toString(), state).withPort(0).withClusters(clusters);
    if (jdbcUrl != null) {
      config = config.withDatabase(jdbcUrl, "postgres", null);
    } else {
      config = config.withDatabase("jdbc:h2:file:" + state.toAbsolutePath().resolve("kms"), "sa", "");
    }
    KmsServer server = KmsServer.start(tweak.apply(config));
    Principals.NewPrincipal first = server.firstPrincipal().orElseThrow();
    return new KmsServerFixture(t, server, first.principal().accessKeyId(), new String(first.secretAccessKey()), cfg);
  }

  URI uri() {
    return server.uri();
  }

  KmsClient root() {
    return client(rootAccessKeyId, rootSecret);
  }

  KmsClient client(String accessKeyId, String secret) {
    return clientOn(server.uri(), accessKeyId, secret);
  }

  /** The root client with {@code interceptors} (e.g. one adding a header before the request is signed). */
  KmsClient root(software.amazon.awssdk.core.interceptor.ExecutionInterceptor... interceptors) {
    return clientOn(server.uri(), rootAccessKeyId, rootSecret, interceptors);
  }

  /** A client of another node that trusts the same CA (the certificates live in the shared token). */
  KmsClient clientOn(URI uri, String accessKeyId, String secret, software.amazon.awssdk.core.interceptor.ExecutionInterceptor... interceptors) {
    return KmsClient.builder()
        .endpointOverride(uri)
        .region(Region.of(server.region()))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secret)))
        .httpClientBuilder(Apache5HttpClient.builder().tlsTrustManagersProvider(() -> trust).maxConnections(64))
        .overrideConfiguration(o -> {
          o.retryStrategy(RetryMode.STANDARD);
          for (var i : interceptors) {
            o.addExecutionInterceptor(i);
          }
        })
        .build();
  }

  /** An SSL context that trusts nothing but the printed CA, for raw HTTPS clients. */
  javax.net.ssl.SSLContext clientSsl() throws java.security.GeneralSecurityException {
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, trust, null);
    return ctx;
  }

  /** The SDK's Apache 5 HTTP client trusting the printed CA, for tests that wrap it. */
  software.amazon.awssdk.http.SdkHttpClient httpClient() {
    return Apache5HttpClient.builder().tlsTrustManagersProvider(() -> trust).build();
  }

  /**
   * The root client on {@code http} (which the caller closes), without retries so that one call
   * is one request, with {@code more} applied to the builder last.
   */
  KmsClient root(software.amazon.awssdk.http.SdkHttpClient http, java.util.function.Consumer<software.amazon.awssdk.services.kms.KmsClientBuilder> more) {
    var b = KmsClient.builder()
        .endpointOverride(server.uri())
        .region(Region.of(server.region()))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(rootAccessKeyId, rootSecret)))
        .httpClient(http)
        .overrideConfiguration(o -> o.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()));
    more.accept(b);
    return b.build();
  }

  /** A new IAM user of the server's account with {@code identityPolicy} (or none): its key pair. */
  String[] user(String name, String identityPolicy) {
    try (Principals.NewPrincipal p = server.principals().create(name, server.accountId(), identityPolicy, null)) {
      return new String[] {p.principal().accessKeyId(), new String(p.secretAccessKey()), p.principal().arn()};
    }
  }

  static TrustManager[] trustManagers(String pem) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    int i = 0;
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      ks.setCertificateEntry("ca" + i++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return tmf.getTrustManagers();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  static void run(String softhsmConf, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true);
      pb.environment().put("SOFTHSM2_CONF", softhsmConf);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
