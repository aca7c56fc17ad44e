package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.hsmkit.kms.http.KmsEndpoint;
import io.hsmkit.kms.http.RawKmsRequests;
import io.hsmkit.kms.http.SdkSigning;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * Issue 7's SigV4 and protocol negatives against the whole server over HTTPS (KmsServer on a
 * fresh token, trusting only its printed CA), each its own test. The SigV4 cases go through the
 * real AWS SDK for Java v2: its HTTP client is wrapped ({@link AfterSigningHttpClient}) to change
 * the request after the SDK signed it, and its SigV4 signer is given a skewed clock. What the SDK
 * cannot be made to send (malformed JSON, an unknown target, a wrong type, an oversized body) is
 * sent raw, signed by the SDK's own signer so that each request is valid but for its defect.
 * Every error is asserted as AWS sends it (status, {@code __type}, message) and no response body
 * carries a stack trace or a class name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KmsProtocolNegativesTest {
  static final String MISMATCH = "The request signature we calculated does not match the signature you provided.";

  KmsServerFixture fx;
  AfterSigningHttpClient wire;
  KmsClient kms;
  SSLContext ssl;
  HttpClient http;

  @BeforeAll
  void start() throws Exception {
    fx = KmsServerFixture.start("kms-protocol-negatives", null);
    wire = new AfterSigningHttpClient(fx.httpClient());
    kms = fx.root(wire, b -> {});
    ssl = fx.clientSsl();
    http = RawKmsRequests.client(ssl);
  }

  @AfterAll
  void stop() {
    try {
      if (kms != null) {
        kms.close();
      }
      if (wire != null) {
        wire.close();
      }
    } finally {
      if (fx != null) {
        fx.close();
      }
    }
  }

  @BeforeEach
  void unchanged() {
    wire.change(AfterSigningHttpClient.Change.NONE);
  }

  /** GenerateRandom through {@code client}: the SDK's exception, after checking the one response's body. */
  KmsException refused(KmsClient client, AfterSigningHttpClient on, int status, String code, String messageStart) {
    int before = on.responseBodies().size();
    KmsException e = catchThrowableOfType(KmsException.class, () -> client.generateRandom(b -> b.numberOfBytes(8)));
    assertThat(e).as("GenerateRandom was refused").isNotNull();
    assertThat(e.statusCode()).isEqualTo(status);
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code);
    assertThat(e.awsErrorDetails().errorMessage()).startsWith(messageStart);
    assertThat(e.requestId()).as("x-amzn-RequestId").isNotBlank();
    assertThat(on.responseBodies()).as("one request, not retried").hasSize(before + 1);
    RawKmsRequests.assertNoLeak(on.responseBodies().get(before));
    return e;
  }

  KmsException refusedAfterSigning(AfterSigningHttpClient.Change change, String code, String messageStart) {
    wire.change(change);
    return refused(kms, wire, 400, code, messageStart);
  }

  // ---------------------------------------------------------------- the SDK, unchanged

  /** The control: the same client, with no change after signing, is served. */
  @Test
  void theUnchangedSdkRequestIsServed() {
    assertThat(kms.generateRandom(b -> b.numberOfBytes(8)).plaintext().asByteArray()).hasSize(8);
    assertThat(wire.sentBodies().get(wire.sentBodies().size() - 1)).isEqualTo("{\"NumberOfBytes\":8}");
  }

  // ---------------------------------------------------------------- the SDK's request, changed after signing

  @Test
  void aBodyAlteredAfterSigning() {
    refusedAfterSigning(AfterSigningHttpClient.Change.body(b -> b.replace("8", "9")), "InvalidSignatureException", MISMATCH);
    assertThat(wire.sentBodies().get(wire.sentBodies().size() - 1)).isEqualTo("{\"NumberOfBytes\":9}");
  }

  /** The operation swapped under the signature: X-Amz-Target is a signed header. */
  @Test
  void aSignedHeaderAlteredAfterSigning() {
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> r.toBuilder().putHeader("X-Amz-Target", "TrentService.ListKeys").build()),
        "InvalidSignatureException", MISMATCH);
  }

  /** X-Amz-Date one second off (toward the same day, so the credential scope still matches). */
  @Test
  void theSignedDateAlteredAfterSigning() {
    DateTimeFormatter amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> {
      Instant signed = Instant.from(amzDate.parse(r.firstMatchingHeader("X-Amz-Date").orElseThrow()));
      Instant other = signed.atZone(ZoneOffset.UTC).getSecond() == 59 ? signed.minusSeconds(1) : signed.plusSeconds(1);
      return r.toBuilder().putHeader("X-Amz-Date", amzDate.format(other)).build();
    }), "InvalidSignatureException", MISMATCH);
  }

  @Test
  void aQueryStringAddedAfterSigning() {
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> r.toBuilder().putRawQueryParameter("Action", "ListKeys").build()),
        "InvalidSignatureException", MISMATCH);
  }

  /** X-Amz-Target is named in SignedHeaders but no longer sent. */
  @Test
  void aSignedHeaderRemovedAfterSigning() {
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> r.toBuilder().removeHeader("X-Amz-Target").build()),
        "InvalidSignatureException", MISMATCH);
  }

  @Test
  void theDateHeaderRemovedAfterSigning() {
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> r.toBuilder().removeHeader("X-Amz-Date").build()),
        "IncompleteSignatureException", "Authorization header requires existence of a 'X-Amz-Date' header.");
  }

  /** Host taken out of SignedHeaders: what is left could be replayed to another host. */
  @Test
  void hostLeftOutOfTheSignedHeaders() {
    refusedAfterSigning(AfterSigningHttpClient.Change.request(r -> r.toBuilder().putHeader("Authorization",
            r.firstMatchingHeader("Authorization").orElseThrow().replace(";host;", ";").replace("SignedHeaders=host;", "SignedHeaders=")).build()),
        "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // ---------------------------------------------------------------- the SDK with other credentials

  /** GenerateRandom by a client whose key pair is {@code akid} and {@code secret}: the refusal. */
  KmsException withCredentials(String akid, String secret, String code, String messageStart) {
    try (AfterSigningHttpClient own = new AfterSigningHttpClient(fx.httpClient());
        KmsClient c = fx.root(own, b -> b.credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(akid, secret))))) {
      return refused(c, own, 400, code, messageStart);
    }
  }

  /** The root's access key id with another secret (KmsSdkEndToEndTest checks the code; this the status, message and body). */
  @Test
  void aWrongSecret() {
    withCredentials(fx.rootAccessKeyId, "wrong" + fx.rootSecret.substring(5), "InvalidSignatureException", MISMATCH);
  }

  @Test
  void anUnknownAccessKeyId() {
    withCredentials("AKIAUNKNOWNUNKNOWN12", fx.rootSecret, "UnrecognizedClientException", "The security token included in the request is invalid.");
  }

  // ---------------------------------------------------------------- the SDK with a skewed clock

  /**
   * AWS's SigV4 signer with its clock set {@code skew} away from the real one, as the SDK's
   * signing scheme: the SDK's own clock-skew correction adjusts the clock the SDK hands the
   * signer, which this one replaces, so every attempt carries the skew.
   */
  static AwsV4AuthScheme skewedScheme(Duration skew) {
    AwsV4HttpSigner real = AwsV4HttpSigner.create();
    Clock skewed = Clock.offset(Clock.systemUTC(), skew);
    AwsV4HttpSigner signer = new AwsV4HttpSigner() {
      @Override
      @SuppressWarnings("unchecked")
      public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
        return real.sign(((SignRequest<AwsCredentialsIdentity>) request).toBuilder().putProperty(HttpSigner.SIGNING_CLOCK, skewed).build());
      }

      @Override
      @SuppressWarnings("unchecked")
      public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
        return real.signAsync(((AsyncSignRequest<AwsCredentialsIdentity>) request).toBuilder().putProperty(HttpSigner.SIGNING_CLOCK, skewed).build());
      }
    };
    return new AwsV4AuthScheme() {
      @Override
      public String schemeId() {
        return AwsV4AuthScheme.SCHEME_ID;
      }

      @Override
      public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
        return providers.identityProvider(AwsCredentialsIdentity.class);
      }

      @Override
      public AwsV4HttpSigner signer() {
        return signer;
      }
    };
  }

  KmsException skewed(Duration skew, String code, String messageStart) {
    try (AfterSigningHttpClient own = new AfterSigningHttpClient(fx.httpClient());
        KmsClient c = fx.root(own, b -> b.putAuthScheme(skewedScheme(skew)))) {
      return messageStart == null ? null : refused(c, own, 400, code, messageStart);
    }
  }

  @Test
  void aClockSixMinutesBehind() {
    KmsException e = skewed(Duration.ofMinutes(-6), "InvalidSignatureException", "Signature expired: ");
    assertThat(e.awsErrorDetails().errorMessage()).matches("Signature expired: \\d{8}T\\d{6}Z is now earlier than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z - 5 min\\.\\)");
  }

  @Test
  void aClockSixMinutesAhead() {
    KmsException e = skewed(Duration.ofMinutes(6), "InvalidSignatureException", "Signature not yet current: ");
    assertThat(e.awsErrorDetails().errorMessage()).matches("Signature not yet current: \\d{8}T\\d{6}Z is still later than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z \\+ 5 min\\.\\)");
  }

  /** The control: within AWS's five minutes, either way, the skewed signer is served. */
  @Test
  void aClockFourMinutesOffEitherWayIsServed() {
    for (Duration skew : new Duration[] {Duration.ofMinutes(-4), Duration.ofMinutes(4)}) {
      try (AfterSigningHttpClient own = new AfterSigningHttpClient(fx.httpClient());
          KmsClient c = fx.root(own, b -> b.putAuthScheme(skewedScheme(skew)))) {
        assertThat(c.generateRandom(b -> b.numberOfBytes(4)).plaintext().asByteArray()).as("skew %s", skew).hasSize(4);
      }
    }
  }

  // ---------------------------------------------------------------- raw, signed by the SDK's signer

  SdkSigning.Call call(String operation, String body) {
    return SdkSigning.Call.kms(fx.uri().resolve("/"), operation, body, fx.rootAccessKeyId, fx.rootSecret).region(fx.server.region());
  }

  /** {@code body} POSTed to {@code operation}, signed by the SDK's signer and sent as it is. */
  RawKmsRequests.Response raw(String operation, String body) throws Exception {
    return RawKmsRequests.post(http, call(operation, body), UnaryOperator.identity());
  }

  /** The control: a raw request signed by the SDK's signer is served, so each defect below is the only one. */
  @Test
  void aRawRequestSignedByTheSdksSignerIsServed() throws Exception {
    RawKmsRequests.Response r = raw("GenerateRandom", "{\"NumberOfBytes\":12}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("Plaintext").binaryValue()).hasSize(12);
  }

  @Test
  void malformedJson() throws Exception {
    RawKmsRequests.assertError(raw("GenerateRandom", "{\"NumberOfBytes\":12"),
        400, "SerializationException", "not valid JSON");
  }

  @Test
  void aWrongTypeForAField() throws Exception {
    RawKmsRequests.assertError(raw("GenerateRandom", "{\"NumberOfBytes\":\"12\"}"),
        400, "SerializationException", "NumberOfBytes");
  }

  @Test
  void aWrongTypeForABlob() throws Exception {
    String keyId = kms.createKey(b -> b.description("wrong-type")).keyMetadata().keyId();
    RawKmsRequests.assertError(raw("Encrypt", "{\"KeyId\":\"" + keyId + "\",\"Plaintext\":[1,2,3]}"), 400, "SerializationException", "Plaintext");
  }

  @Test
  void anUnknownTarget() throws Exception {
    RawKmsRequests.assertError(raw("DeleteEverything", "{}"),
        400, "UnknownOperationException", "Unknown operation 'DeleteEverything'");
  }

  /** A value the JSON accepts but the operation does not: the service's own check. */
  @Test
  void aValueOutOfRange() throws Exception {
    RawKmsRequests.assertError(raw("GenerateRandom", "{\"NumberOfBytes\":1025}"),
        400, "ValidationException", "1024");
  }

  /** A signed request declaring one byte more than the bound: refused on its headers, before the body is read. */
  @Test
  void anOversizedBody() throws Exception {
    String body = "{\"NumberOfBytes\":12,\"Padding\":\"" + "a".repeat(KmsEndpoint.DEFAULT_MAX_REQUEST_BYTES) + "\"}";
    RawKmsRequests.Response r = RawKmsRequests.postHeadersFirst(ssl, call("GenerateRandom", body), 1024);
    RawKmsRequests.assertError(r, 413, "RequestEntityTooLargeException", "Request body must be at most " + KmsEndpoint.DEFAULT_MAX_REQUEST_BYTES + " bytes");
  }

  /** A body sent with a wrong secret through the raw path too: the signature check comes before the JSON is parsed. */
  @Test
  void malformedJsonWithAWrongSecretIsASignatureError() throws Exception {
    RawKmsRequests.assertError(RawKmsRequests.post(http, call("GenerateRandom", "{not json").secret("wrong" + fx.rootSecret.substring(5)),
        UnaryOperator.identity()), 400, "InvalidSignatureException", MISMATCH);
  }

  @Test
  void theRefusalsDoNotEndTheConnectionForTheSdk() {
    assertThatThrownBy(() -> {
      wire.change(AfterSigningHttpClient.Change.body(b -> b.replace("8", "9")));
      kms.generateRandom(b -> b.numberOfBytes(8));
    }).isInstanceOf(KmsException.class);
    wire.change(AfterSigningHttpClient.Change.NONE);
    assertThat(kms.generateRandom(b -> b.numberOfBytes(8)).plaintext().asByteArray()).hasSize(8);
  }
}
