package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.Caller;
import io.hsmkit.provider.keys.HsmKey;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.DescribeKeyResponse;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.GenerateRandomResponse;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.KmsInternalException;
import software.amazon.awssdk.services.kms.model.NotFoundException;

/**
 * The endpoint driven by the real AWS SDK for Java v2 (KmsClient, Apache HttpClient 5, HTTPS
 * trusting only the CA that {@link EndpointCertificates} made in a fresh token), and by raw HTTP
 * requests signed with the SDK's own SigV4 signer for what the SDK cannot be made to send.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KmsEndpointSdkTest {
  TlsFixture tls;
  StubOperations ops;
  StubCredentials creds;
  KmsEndpoint endpoint;
  KmsClient kms;
  HttpClient http;

  @BeforeAll
  void start() throws Exception {
    tls = TlsFixture.create("kms-http-sdk");
    ops = new StubOperations();
    creds = new StubCredentials();
    endpoint = KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", Clock.systemUTC())).https(tls.keyStore, TlsFixture.TLS_ALIAS).start();
    kms = client(endpoint.uri(), StubCredentials.AKID, StubCredentials.SECRET);
    http = RawKmsRequests.client(tls.clientSsl());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (kms != null) {
        kms.close();
      }
      if (endpoint != null) {
        endpoint.close();
      }
    } finally {
      if (tls != null) {
        tls.close();
      }
    }
  }

  /** An SDK client as an application configures one: endpoint override, region, keys, and the CA to trust. */
  KmsClient client(URI uri, String akid, String secret) throws Exception {
    var trust = TlsFixture.trustManagers(tls.certs.caPem());
    return KmsClient.builder()
        .endpointOverride(uri)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(akid, secret)))
        .httpClientBuilder(Apache5HttpClient.builder().tlsTrustManagersProvider(() -> trust))
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD))
        .build();
  }

  // ---- through the SDK ----

  @Test
  void generateRandomOverHttpsTrustingThePrintedCa() {
    GenerateRandomResponse r = kms.generateRandom(b -> b.numberOfBytes(48));
    assertThat(r.plaintext().asByteArray()).hasSize(48);
    assertThat(endpoint.uri().toString()).startsWith("https://localhost:");
    String id = r.responseMetadata().requestId();
    assertThat(UUID.fromString(id).toString()).isEqualTo(id);
    assertThat(ops.lastRequestId.get()).as("the service sees the request id the client gets").isEqualTo(id);
  }

  @Test
  void theCallerCarriesTheAccessKeySourceIpAndUserAgent() {
    kms.generateRandom(b -> b.numberOfBytes(1));
    Caller c = ops.lastCaller.get();
    assertThat(c.principalArn()).isEqualTo(StubCredentials.ALICE.principalArn());
    assertThat(c.accessKeyId()).isEqualTo(StubCredentials.AKID);
    assertThat(c.sourceIp()).isEqualTo("127.0.0.1");
    assertThat(c.userAgent()).startsWith("aws-sdk-java/");
  }

  @Test
  void blobsRoundTripInBase64() {
    byte[] all = new byte[256 * 4];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    EncryptResponse e = kms.encrypt(b -> b.keyId("alias/stub").plaintext(SdkBytes.fromByteArray(all)).encryptionContext(Map.of("ab", "c", "tenant", "ü €")));
    assertThat(e.keyId()).isEqualTo(StubOperations.ARN);
    assertThat(e.ciphertextBlob().asByteArray()).startsWith(StubOperations.MARKER);
    assertThat(ops.lastContext.get()).isEqualTo(Map.of("ab", "c", "tenant", "ü €"));
    DecryptResponse d = kms.decrypt(b -> b.ciphertextBlob(e.ciphertextBlob()));
    assertThat(d.plaintext().asByteArray()).isEqualTo(all);
    assertThat(d.keyId()).isEqualTo(StubOperations.ARN);
  }

  @Test
  void aServiceErrorArrivesAsTheSdksType() {
    assertThatThrownBy(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromUtf8String("not ours"))))
        .isInstanceOfSatisfying(InvalidCiphertextException.class, e -> assertThat(e.statusCode()).isEqualTo(400));
    int before = ops.calls("DescribeKey");
    assertThatThrownBy(() -> kms.describeKey(b -> b.keyId("missing")))
        .isInstanceOfSatisfying(NotFoundException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(400);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NotFoundException");
          assertThat(e.awsErrorDetails().errorMessage()).endsWith("key/missing' does not exist");
          assertThat(e.requestId()).isNotBlank();
        });
    assertThat(ops.calls("DescribeKey") - before).as("a 400 is not retried").isEqualTo(1);
  }

  @Test
  void keyMetadataWithEpochSecondsParses() {
    DescribeKeyResponse r = kms.describeKey(b -> b.keyId("alias/stub"));
    assertThat(r.keyMetadata().creationDate()).isEqualTo(StubOperations.CREATED);
    assertThat(r.keyMetadata().awsAccountId()).isEqualTo("111122223333");
    assertThat(r.keyMetadata().arn()).isEqualTo(StubOperations.ARN);
    assertThat(r.keyMetadata().keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(r.keyMetadata().enabled()).isTrue();
  }

  @Test
  void anEmptyResponseIsAnEmptyObject() {
    assertThat(kms.listKeys().keys()).isEmpty();
  }

  @Test
  void kmsInternalIsRetriedByTheSdk() {
    int before = ops.calls("GenerateDataKey");
    assertThatThrownBy(() -> kms.generateDataKey(b -> b.keyId("alias/stub").numberOfBytes(32)))
        .isInstanceOfSatisfying(KmsInternalException.class, e -> assertThat(e.statusCode()).isEqualTo(500));
    // RetryMode.STANDARD: three attempts in all.
    assertThat(ops.calls("GenerateDataKey") - before).isEqualTo(3);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "a wrong secret, AKIAHSMKITTEST000001, wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, InvalidSignatureException, The request signature we calculated does not match the signature you provided.",
      "an unknown access key, AKIAUNKNOWN000000000, hsmkit/test+Secret0000000000000000000000, UnrecognizedClientException, The security token included in the request is invalid."})
  void sigV4FailuresAsTheSdkSeesThem(String name, String akid, String secret, String code, String message) throws Exception {
    int before = ops.totalCalls();
    try (KmsClient bad = client(endpoint.uri(), akid, secret)) {
      assertThatThrownBy(() -> bad.generateRandom(b -> b.numberOfBytes(8)))
          .isInstanceOfSatisfying(KmsException.class, e -> {
            assertThat(e.statusCode()).isEqualTo(400);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code);
            assertThat(e.awsErrorDetails().errorMessage()).startsWith(message);
          });
    }
    assertThat(ops.totalCalls()).as("nothing reached the service").isEqualTo(before);
    assertThat(creds.allWiped()).isTrue();
  }

  @Test
  void plainHttpIsRefusedOffLoopback() throws Exception {
    for (String address : List.of("0.0.0.0", "::", "192.0.2.10")) {
      assertThatThrownBy(() -> KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", Clock.systemUTC()))
          .address(InetAddress.getByName(address)).plainHttp().start())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("plain HTTP is served only on a loopback address");
    }
    assertThatThrownBy(() -> KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", Clock.systemUTC())).start())
        .as("neither HTTPS nor plain HTTP chosen").isInstanceOf(IllegalStateException.class).hasMessageContaining("choose HTTPS");
  }

  @Test
  void plainHttpOnLoopbackWhenAsked() throws Exception {
    try (KmsEndpoint plain = KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", Clock.systemUTC())).plainHttp().start();
        KmsClient c = client(plain.uri(), StubCredentials.AKID, StubCredentials.SECRET)) {
      assertThat(plain.uri().getScheme()).isEqualTo("http");
      assertThat(plain.isHttps()).isFalse();
      assertThat(c.generateRandom(b -> b.numberOfBytes(16)).plaintext().asByteArray()).hasSize(16);
    }
  }

  @Test
  void theTlsKeyStaysInTheTokenAndTheServerPresentsTheChain() throws Exception {
    for (String alias : List.of(TlsFixture.TLS_ALIAS, TlsFixture.CA_ALIAS)) {
      Key k = tls.keyStore.getKey(alias, null);
      assertThat(k).isInstanceOf(HsmKey.class);
      HsmKey hk = (HsmKey) k;
      assertThat(hk.isTokenObject()).as(alias + " is a token object").isTrue();
      assertThat(hk.isSensitive()).as(alias + " is sensitive").isTrue();
      assertThat(hk.isExtractable()).as(alias + " is not extractable").isFalse();
      assertThat(k.getFormat()).isNull(); // Tomcat copies only PKCS#8 keys into a software keystore
      assertThat(k.getEncoded()).isNull();
    }
    SSLContext ctx = tls.clientSsl();
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", endpoint.port())) {
      s.startHandshake();
      Certificate[] chain = s.getSession().getPeerCertificates();
      assertThat(chain[0]).isEqualTo(tls.certs.server());
      X509Certificate leaf = (X509Certificate) chain[0];
      leaf.verify(tls.certs.ca().getPublicKey());
      assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList()).contains("localhost", "127.0.0.1");
    }
    // Asked again under the same aliases, ensure() finds them instead of issuing new ones.
    assertThat(EndpointCertificates.ensure(tls.keyStore, tls.hsmkit, TlsFixture.CA_ALIAS, TlsFixture.TLS_ALIAS, List.of("localhost"),
        List.of(), Duration.ofDays(1)).server()).isEqualTo(tls.certs.server());
    // Under aliases that hold nothing, it issues a new CA and server certificate, found again afterwards.
    assertThat(EndpointCertificates.existing(tls.keyStore, "other-ca", "other-tls")).isEmpty();
    EndpointCertificates.Issued other = EndpointCertificates.ensure(tls.keyStore, tls.hsmkit, "other-ca", "other-tls", List.of("kms.internal"),
        List.of(), Duration.ofDays(1));
    assertThat(other.ca()).isNotEqualTo(tls.certs.ca());
    assertThat(other.server().getSubjectX500Principal().getName()).startsWith("CN=kms.internal");
    assertThat(EndpointCertificates.existing(tls.keyStore, "other-ca", "other-tls")).contains(other);
    assertThat(EndpointCertificates.existing(tls.keyStore, TlsFixture.CA_ALIAS, "other-tls")).as("a server certificate of another CA").isEmpty();
  }

  /**
   * A client whose clock is 10 minutes behind the server's: the first attempt is "Signature
   * expired", and the SDK, seeing the server's Date, corrects its skew and succeeds, as with AWS.
   */
  @Test
  void theSdkCorrectsItsClockSkewFromTheDateHeader() throws Exception {
    Clock serverAhead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10));
    try (KmsEndpoint skewed = KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", serverAhead)).https(tls.keyStore, TlsFixture.TLS_ALIAS).start();
        KmsClient c = client(skewed.uri(), StubCredentials.AKID, StubCredentials.SECRET)) {
      int before = ops.calls("GenerateRandom");
      assertThat(c.generateRandom(b -> b.numberOfBytes(8)).plaintext().asByteArray()).hasSize(8);
      assertThat(ops.calls("GenerateRandom") - before).isEqualTo(1);
    }
  }

  /** Two endpoints on one provider: closing one leaves the provider registered for the other. */
  @Test
  void aSecondEndpointOnTheSameTokenKeepsWorkingWhenTheFirstCloses() throws Exception {
    KmsEndpoint second = KmsEndpoint.builder(ops, new SigV4Verifier(creds, "us-east-1", Clock.systemUTC())).https(tls.keyStore, TlsFixture.TLS_ALIAS).start();
    try (KmsClient c = client(second.uri(), StubCredentials.AKID, StubCredentials.SECRET)) {
      assertThat(c.generateRandom(b -> b.numberOfBytes(4)).plaintext().asByteArray()).hasSize(4);
    } finally {
      second.close();
    }
    assertThat(java.security.Security.getProvider(tls.hsmkit.getName())).as("still registered for the first endpoint").isNotNull();
    try (KmsClient c = client(endpoint.uri(), StubCredentials.AKID, StubCredentials.SECRET)) {
      assertThat(c.generateRandom(b -> b.numberOfBytes(4)).plaintext().asByteArray()).hasSize(4);
    }
  }

  /**
   * Concurrent SDK clients, each with its own connection pool (so handshakes are signed in the
   * token in parallel): every call succeeds and every response carries its own request id.
   */
  @Test
  void concurrentClients() throws Exception {
    int clients = 16;
    int callsEach = 40;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
    java.util.Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
    long t0 = System.nanoTime();
    try {
      List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int me = i;
        done.add(pool.submit(() -> {
          try (KmsClient c = client(endpoint.uri(), StubCredentials.AKID, StubCredentials.SECRET)) {
            for (int j = 0; j < callsEach; j++) {
              byte[] pt = (me + ":" + j).getBytes(StandardCharsets.UTF_8);
              EncryptResponse e = c.encrypt(b -> b.keyId("alias/stub").plaintext(SdkBytes.fromByteArray(pt)));
              DecryptResponse d = c.decrypt(b -> b.ciphertextBlob(e.ciphertextBlob()));
              assertThat(d.plaintext().asByteArray()).isEqualTo(pt);
              ids.add(e.responseMetadata().requestId());
              ids.add(d.responseMetadata().requestId());
            }
          }
          return callsEach * 2;
        }));
      }
      int total = 0;
      for (java.util.concurrent.Future<Integer> f : done) {
        total += f.get(5, java.util.concurrent.TimeUnit.MINUTES);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("concurrentClients: %d clients, %d calls in %.2f s (%.0f calls/s, handshakes included)%n", clients, total, seconds, total / seconds);
      assertThat(ids).as("a distinct request id per call").hasSize(total);
    } finally {
      pool.shutdownNow();
    }
    var st = tls.hsmkit.tokenContext().pool().stats();
    assertThat(st.leaked()).isZero();
  }

  /**
   * The export lines of {@link AwsEnvironment}, eval'd by bash, and nothing else: a plain SDK
   * program in a child JVM (trusting the CA through the JVM's trust store, since the Java SDK
   * does not read AWS_CA_BUNDLE) reaches the endpoint.
   */
  @Test
  void evalOfTheExportLinesLetsAPlainSdkProgramCall() throws Exception {
    java.nio.file.Path dir = tls.caPemFile.getParent();
    java.nio.file.Path trustStore = dir.resolve("ca.p12");
    EndpointCertificates.writeTrustStore(trustStore, "changeit".toCharArray(), tls.certs.ca());
    java.io.StringWriter exports = new java.io.StringWriter();
    AwsEnvironment.write(exports, endpoint.uri(), "us-east-1", StubCredentials.AKID, StubCredentials.SECRET.toCharArray(), tls.caPemFile);
    java.nio.file.Path env = java.nio.file.Files.writeString(dir.resolve("env.sh"), exports.toString());
    String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "eval \"$(cat \"$1\")\"; exec \"$2\" -Djavax.net.ssl.trustStore=\"$3\" "
        + "-Djavax.net.ssl.trustStorePassword=changeit -cp \"$4\" io.hsmkit.kms.http.PlainSdkProgram",
        "sh", env.toString(), javaBin, trustStore.toString(), System.getProperty("java.class.path")).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    pb.environment().put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    int before = ops.calls("GenerateRandom");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("random bytes: 24");
    assertThat(ops.calls("GenerateRandom") - before).isEqualTo(1);
  }

  /**
   * curl's own SigV4 ({@code --aws-sigv4}), a third implementation besides the SDK's and ours,
   * with the CA PEM as its trust: the README's one-line smoke test of a running endpoint.
   */
  @ParameterizedTest(name = "curl --aws-sigv4 with secret {0}")
  @CsvSource({
      "hsmkit/test+Secret0000000000000000000000, 200, ",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 400, InvalidSignatureException"})
  void curlWithItsOwnSigV4(String secret, int status, String type) throws Exception {
    if (!new java.io.File("/usr/bin/curl").canExecute()) {
      throw new IllegalStateException("curl is missing: apt-get install curl");
    }
    Process p = new ProcessBuilder("curl", "-sS", "--cacert", tls.caPemFile.toString(), "--aws-sigv4", "aws:amz:us-east-1:kms",
        "--user", StubCredentials.AKID + ":" + secret, "-H", "X-Amz-Target: TrentService.GenerateRandom",
        "-H", "Content-Type: application/x-amz-json-1.1", "-d", "{\"NumberOfBytes\":16}", "-w", "\n%{http_code}", endpoint.uri().toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    String[] lines = out.split("\n");
    assertThat(Integer.parseInt(lines[lines.length - 1].trim())).as(out).isEqualTo(status);
    JsonNode body = KmsJson.mapper().readTree(lines[0]);
    if (status == 200) {
      assertThat(body.get("Plaintext").binaryValue()).hasSize(16);
    } else {
      assertThat(body.get("__type").asText()).isEqualTo(type);
    }
  }

  // ---- raw requests, signed by the SDK's signer ----

  // Raw is the shared helper's response; post and send sign and send through it.
  RawKmsRequests.Response post(SdkSigning.Call call, UnaryOperator<String> bodyAfterSigning) throws Exception {
    return RawKmsRequests.post(http, call, bodyAfterSigning);
  }

  RawKmsRequests.Response send(HttpRequest r) throws Exception {
    return RawKmsRequests.send(http, r);
  }

  SdkSigning.Call call(String operation, String body) {
    return SdkSigning.Call.kms(endpoint.uri().resolve("/"), operation, body, StubCredentials.AKID, StubCredentials.SECRET);
  }

  static void assertError(RawKmsRequests.Response r, int status, String type, String message) {
    RawKmsRequests.assertError(r, status, type, message);
  }

  @Test
  void aRawSignedRequestWorks() throws Exception {
    RawKmsRequests.Response r = post(call("GenerateRandom", "{\"NumberOfBytes\":12}"), UnaryOperator.identity());
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("Plaintext").binaryValue()).hasSize(12);
    assertThat(r.headers().get("x-amzn-requestid")).hasSize(1);
  }

  @Test
  void aSkewedClockIsSignatureExpired() throws Exception {
    int before = ops.totalCalls();
    RawKmsRequests.Response r = post(call("GenerateRandom", "{}").at(Instant.now().minus(Duration.ofMinutes(6))), UnaryOperator.identity());
    assertError(r, 400, "InvalidSignatureException", "Signature expired: ");
    assertThat(r.message()).matches("Signature expired: \\d{8}T\\d{6}Z is now earlier than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z - 5 min\\.\\)");
    RawKmsRequests.Response ahead = post(call("GenerateRandom", "{}").at(Instant.now().plus(Duration.ofMinutes(6))), UnaryOperator.identity());
    assertError(ahead, 400, "InvalidSignatureException", "Signature not yet current: ");
    assertThat(ops.totalCalls()).isEqualTo(before);
  }

  @Test
  void aBodyAlteredAfterSigningIsRefused() throws Exception {
    int before = ops.totalCalls();
    RawKmsRequests.Response r = post(call("GenerateRandom", "{\"NumberOfBytes\":12}"), b -> b.replace("12", "13"));
    assertError(r, 400, "InvalidSignatureException", "The request signature we calculated does not match");
    assertThat(ops.totalCalls()).isEqualTo(before);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "malformed JSON        | GenerateRandom     | {not json                  | 400 | SerializationException    | not valid JSON",
      "a JSON array          | GenerateRandom     | [1]                        | 400 | SerializationException    | must be a JSON object",
      "a string for a number | GenerateRandom     | {\"NumberOfBytes\":\"8\"}  | 400 | SerializationException    | NumberOfBytes",
      "an unknown member     | GenerateRandom     | {\"Bytes\":8}              | 400 | SerializationException    | Unknown member 'Bytes'",
      "the service's check   | GenerateRandom     | {\"NumberOfBytes\":2000}   | 400 | ValidationException       | Member must have value less than or equal to 1024",
      "an unknown target     | Nope               | {}                         | 400 | UnknownOperationException | Unknown operation 'Nope'",
      "an unexpected failure | ScheduleKeyDeletion| {}                         | 500 | KMSInternalException      | internal error"})
  void badRequestsGetAwsErrors(String name, String operation, String body, int status, String type, String message) throws Exception {
    RawKmsRequests.Response r = post(call(operation, body), UnaryOperator.identity());
    assertError(r, status, type, message);
    assertThat(r.message()).doesNotContain("Exception:", "\tat ", "io.hsmkit", "s3cr3t");
  }

  /**
   * The quorum approval header reaches the operation on its thread when it is signed (the SDK signs
   * the headers an interceptor adds before signing), is gone after the call, and a copy added after
   * signing is refused before any operation runs.
   */
  @Test
  void theQuorumApprovalHeaderMustBeSigned() throws Exception {
    software.amazon.awssdk.core.interceptor.ExecutionInterceptor add = new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
      @Override
      public software.amazon.awssdk.http.SdkHttpRequest modifyHttpRequest(software.amazon.awssdk.core.interceptor.Context.ModifyHttpRequest c,
          software.amazon.awssdk.core.interceptor.ExecutionAttributes a) {
        return c.httpRequest().toBuilder().putHeader(QuorumApprovalHeader.NAME, "dG9rZW4=").build();
      }
    };
    var trust = TlsFixture.trustManagers(tls.certs.caPem());
    try (KmsClient withHeader = KmsClient.builder().endpointOverride(endpoint.uri()).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(StubCredentials.AKID, StubCredentials.SECRET)))
        .httpClientBuilder(Apache5HttpClient.builder().tlsTrustManagersProvider(() -> trust))
        .overrideConfiguration(o -> o.addExecutionInterceptor(add)).build()) {
      withHeader.generateRandom(b -> b.numberOfBytes(1));
      assertThat(ops.lastApproval.get()).isEqualTo("dG9rZW4=");
    }
    kms.generateRandom(b -> b.numberOfBytes(1));
    assertThat(ops.lastApproval.get()).as("none without the header").isEmpty();
    int before = ops.totalCalls();
    SdkSigning.Call call = call("GenerateRandom", "{\"NumberOfBytes\":1}");
    Map<String, List<String>> signed = SdkSigning.sign(call);
    HttpRequest.Builder b = HttpRequest.newBuilder(call.endpoint()).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(call.body(), StandardCharsets.UTF_8)).header(QuorumApprovalHeader.NAME, "dG9rZW4=");
    signed.forEach((k, vs) -> {
      if (!Set.of("host", "content-length", "connection", "expect").contains(k.toLowerCase())) {
        vs.forEach(v -> b.header(k, v));
      }
    });
    assertError(send(b.build()), 400, "IncompleteSignatureException", "'X-Hsmkit-Quorum-Approval' must be a 'SignedHeader'");
    assertThat(ops.totalCalls()).isEqualTo(before);
  }

  @Test
  void aMissingOrForeignTargetIsAnUnknownOperation() throws Exception {
    assertError(post(new SdkSigning.Call(endpoint.uri(), null, "{}", StubCredentials.AKID, StubCredentials.SECRET, "us-east-1", "kms", null),
        UnaryOperator.identity()), 400, "UnknownOperationException", "X-Amz-Target header is missing");
    assertError(post(new SdkSigning.Call(endpoint.uri(), "DynamoDB_20120810.ListTables", "{}", StubCredentials.AKID, StubCredentials.SECRET,
        "us-east-1", "kms", null), UnaryOperator.identity()), 400, "UnknownOperationException", "expected TrentService.<Operation>");
  }

  @Test
  void anUnsignedRequestIsMissingAuthentication() throws Exception {
    RawKmsRequests.Response r = send(HttpRequest.newBuilder(endpoint.uri()).header("X-Amz-Target", "TrentService.GenerateRandom")
        .header("Content-Type", "application/x-amz-json-1.1").POST(HttpRequest.BodyPublishers.ofString("{}")).build());
    assertError(r, 400, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }

  @ParameterizedTest
  @CsvSource({"GET", "PUT", "DELETE"})
  void otherMethodsAreRefused(String method) throws Exception {
    RawKmsRequests.Response r = send(HttpRequest.newBuilder(endpoint.uri()).method(method, HttpRequest.BodyPublishers.noBody()).build());
    assertError(r, 400, "UnknownOperationException", "POST / only");
  }

  @Test
  void anotherPathIsRefused() throws Exception {
    RawKmsRequests.Response r = send(HttpRequest.newBuilder(endpoint.uri().resolve("/admin")).POST(HttpRequest.BodyPublishers.ofString("{}")).build());
    assertError(r, 400, "UnknownOperationException", "POST / only");
  }

  /** A declared Content-Length over the bound is refused at once: the client has sent only the headers. */
  @Test
  void anOversizedBodyIsRefusedBeforeItIsRead() throws Exception {
    try (SSLSocket s = (SSLSocket) tls.clientSsl().getSocketFactory().createSocket("localhost", endpoint.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST / HTTP/1.1\r\nHost: localhost:" + endpoint.port() + "\r\nX-Amz-Target: TrentService.Encrypt\r\n"
          + "Content-Type: application/x-amz-json-1.1\r\nContent-Length: " + (2 << 20) + "\r\n\r\n{\"Plaintext\":\"").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 413 ");
      String line;
      boolean requestId = false;
      while (!(line = in.readLine()).isEmpty()) {
        requestId |= line.toLowerCase().startsWith("x-amzn-requestid: ");
      }
      assertThat(requestId).isTrue();
      char[] body = new char[512];
      int n = in.read(body);
      assertThat(new String(body, 0, n)).contains("\"__type\":\"RequestEntityTooLargeException\"");
    }
  }

  /** Without a Content-Length (chunked), the body is read until it passes the bound. */
  @Test
  void anOversizedChunkedBodyIsRefused() throws Exception {
    int before = ops.totalCalls();
    byte[] big = new byte[KmsEndpoint.DEFAULT_MAX_REQUEST_BYTES + 1];
    java.util.Arrays.fill(big, (byte) ' ');
    RawKmsRequests.Response r = send(HttpRequest.newBuilder(endpoint.uri()).header("X-Amz-Target", "TrentService.Encrypt")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build());
    assertError(r, 413, "RequestEntityTooLargeException", "at most 1048576 bytes");
    assertThat(ops.totalCalls()).isEqualTo(before);
  }
}
