package io.hsmkit.kms.http;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Requests signed by the AWS SDK's own SigV4 signer ({@link AwsV4HttpSigner}), so that the
 * verifier is checked against AWS's implementation rather than against itself. Public, in the
 * kms test jar, for it/'s tests of a whole server.
 */
public final class SdkSigning {
  private SdkSigning() {}

  /** A KMS call as the SDK would sign it: POST / with the JSON 1.1 headers. */
  public record Call(URI endpoint, String target, String body, String accessKeyId, String secret, String region, String service, Instant at) {
    public Call {
      at = at == null ? Instant.now() : at;
      service = service == null ? "kms" : service;
    }

    public static Call kms(URI endpoint, String operation, String body, String akid, String secret) {
      return new Call(endpoint, "TrentService." + operation, body, akid, secret, "us-east-1", "kms", null);
    }

    public Call at(Instant when) {
      return new Call(endpoint, target, body, accessKeyId, secret, region, service, when);
    }

    public Call region(String r) {
      return new Call(endpoint, target, body, accessKeyId, secret, r, service, at);
    }

    public Call service(String s) {
      return new Call(endpoint, target, body, accessKeyId, secret, region, s, at);
    }

    public Call secret(String s) {
      return new Call(endpoint, target, body, accessKeyId, s, region, service, at);
    }

    public Call accessKeyId(String a) {
      return new Call(endpoint, target, body, a, secret, region, service, at);
    }
  }

  /** The signed headers (Host and Authorization among them), in the SDK's order. */
  public static Map<String, List<String>> sign(Call c) {
    byte[] body = c.body().getBytes(StandardCharsets.UTF_8);
    SdkHttpRequest.Builder rb = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(c.endpoint())
        .putHeader("Content-Type", "application/x-amz-json-1.1")
        .putHeader("Content-Length", Integer.toString(body.length));
    if (c.target() != null) {
      rb.putHeader("X-Amz-Target", c.target());
    }
    SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(c.accessKeyId(), c.secret()))
        .request(rb.build())
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.REGION_NAME, c.region())
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, c.service())
        .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, Clock.fixed(c.at(), ZoneOffset.UTC)));
    return new LinkedHashMap<>(signed.request().headers());
  }

  /** The same as the verifier's input. */
  static SigV4Verifier.SignedRequest asVerifierInput(Call c) {
    return new SigV4Verifier.SignedRequest("POST", c.endpoint().getRawPath(), c.endpoint().getRawQuery(), sign(c),
        c.body().getBytes(StandardCharsets.UTF_8));
  }
}
