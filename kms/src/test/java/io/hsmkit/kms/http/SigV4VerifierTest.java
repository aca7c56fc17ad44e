package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SigV4 verification: AWS's published test-suite vectors for the pieces, then whole requests
 * signed by the AWS SDK's own signer, accepted and (each changed in one way) refused with the
 * error AWS gives.
 */
class SigV4VerifierTest {
  static final Instant NOW = Instant.parse("2026-11-29T20:00:00Z");
  static final URI ENDPOINT = URI.create("https://localhost:8443/");
  static final String BODY = "{\"KeyId\":\"alias/test\",\"Plaintext\":\"aGVsbG8=\"}";
  private static final HexFormat HEX = HexFormat.of();

  final StubCredentials credentials = new StubCredentials();
  final SigV4Verifier verifier = new SigV4Verifier(credentials, "us-east-1", Clock.fixed(NOW, ZoneOffset.UTC));

  static SdkSigning.Call call() {
    return SdkSigning.Call.kms(ENDPOINT, "Encrypt", BODY, StubCredentials.AKID, StubCredentials.SECRET).at(NOW);
  }

  // ---- AWS's SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case) ----

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "get-vanilla, '', bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63, 5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      "get-vanilla-query-order-key-case, Param2=value2&Param1=value1, , b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"})
  void awsTestSuite(String name, String query, String canonicalHash, String signature) {
    Map<String, List<String>> h = new LinkedHashMap<>();
    h.put("Host", List.of("example.amazonaws.com"));
    h.put("X-Amz-Date", List.of("20150830T123600Z"));
    SigV4Verifier.SignedRequest r = new SigV4Verifier.SignedRequest("GET", "/", query.isEmpty() ? null : query, h, new byte[0]);
    String canonical = SigV4Verifier.canonicalRequest(r, List.of("host", "x-amz-date"), HEX.formatHex(SigV4Verifier.sha256(new byte[0])));
    if (canonicalHash != null) {
      assertThat(HEX.formatHex(SigV4Verifier.sha256(canonical.getBytes(StandardCharsets.UTF_8)))).isEqualTo(canonicalHash);
    }
    String toSign = SigV4Verifier.stringToSign("20150830T123600Z", SigV4Verifier.scope("20150830", "us-east-1", "service"), canonical);
    byte[] sig = SigV4Verifier.signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".toCharArray(), "20150830", "us-east-1", "service", toSign);
    assertThat(HEX.formatHex(sig)).isEqualTo(signature);
  }

  /** RFC 4231 test cases 2 and 6 (a key longer than the block), then the JDK's HmacSHA256 on random inputs. */
  @Test
  void hmacSha256MatchesRfc4231AndTheJdk() throws Exception {
    assertThat(HEX.formatHex(SigV4Verifier.hmacSha256("Jefe".getBytes(StandardCharsets.US_ASCII),
        "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    byte[] longKey = new byte[131];
    Arrays.fill(longKey, (byte) 0xaa);
    assertThat(HEX.formatHex(SigV4Verifier.hmacSha256(longKey,
        "Test Using Larger Than Block-Size Key - Hash Key First".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    SecureRandom rnd = new SecureRandom();
    for (int keyLen : new int[] {1, 32, 63, 64, 65, 200}) {
      byte[] key = new byte[keyLen];
      byte[] data = new byte[rnd.nextInt(300)];
      rnd.nextBytes(key);
      rnd.nextBytes(data);
      Mac jdk = Mac.getInstance("HmacSHA256");
      jdk.init(new SecretKeySpec(key, "HmacSHA256"));
      assertThat(SigV4Verifier.hmacSha256(key, data)).as("key length " + keyLen).isEqualTo(jdk.doFinal(data));
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''                         | ''",
      "a=1&b=2                    | a=1&b=2",
      "b=2&a=1                    | a=1&b=2",
      "a=2&a=1                    | a=1&a=2",
      "flag                       | flag=",
      "k=a%20b                    | k=a%20b",
      "k=a+b                      | k=a%2Bb",
      "k=%7e~                     | k=~~",
      "%E1%88%B4=x                | %E1%88%B4=x"})
  void canonicalQuery(String raw, String canonical) {
    assertThat(SigV4Verifier.canonicalQuery(raw)).isEqualTo(canonical);
  }

  // ---- whole requests signed by the SDK ----

  @Test
  void acceptsWhatTheSdkSignsAndNamesThePrincipal() {
    Caller c = verifier.verify(SdkSigning.asVerifierInput(call()), "192.0.2.7", "aws-sdk-java/2 test");
    assertThat(c.principalArn()).isEqualTo(StubCredentials.ALICE.principalArn());
    assertThat(c.accountId()).isEqualTo(StubCredentials.ACCOUNT);
    assertThat(c.accessKeyId()).isEqualTo(StubCredentials.AKID);
    assertThat(c.sourceIp()).isEqualTo("192.0.2.7");
    assertThat(c.userAgent()).isEqualTo("aws-sdk-java/2 test");
    assertThat(credentials.handedOut).hasSize(1);
    assertThat(credentials.allWiped()).as("the secret is wiped after the check").isTrue();
  }

  @Test
  void acceptsAClockWithinFiveMinutesEitherWay() {
    for (Duration d : List.of(Duration.ofMinutes(-5), Duration.ofMinutes(-4), Duration.ofMinutes(4), Duration.ofMinutes(5))) {
      verifier.verify(SdkSigning.asVerifierInput(call().at(NOW.plus(d))), "127.0.0.1", null);
    }
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        // what changes in the SDK's call, or in the signed request, and what AWS answers
        sdk("wrong secret", c -> c.secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), KmsError.INVALID_SIGNATURE, "The request signature we calculated does not match"),
        sdk("unknown access key id", c -> c.accessKeyId("AKIAUNKNOWN000000000"), KmsError.UNRECOGNIZED_CLIENT, "The security token included in the request is invalid."),
        sdk("signed 6 minutes ago", c -> c.at(NOW.minus(Duration.ofMinutes(6))), KmsError.INVALID_SIGNATURE, "Signature expired: 20261129T195400Z is now earlier than 20261129T195500Z (20261129T200000Z - 5 min.)"),
        sdk("signed 6 minutes ahead", c -> c.at(NOW.plus(Duration.ofMinutes(6))), KmsError.INVALID_SIGNATURE, "Signature not yet current: 20261129T200600Z is still later than 20261129T200500Z (20261129T200000Z + 5 min.)"),
        sdk("another region", c -> c.region("eu-west-1"), KmsError.INVALID_SIGNATURE, "Credential should be scoped to a valid region, not 'eu-west-1'"),
        sdk("another service", c -> c.service("s3"), KmsError.INVALID_SIGNATURE, "Credential should be scoped to correct service: 'kms'"),
        wire("body altered after signing", r -> with(r, r.headers(), "{\"KeyId\":\"alias/other\",\"Plaintext\":\"aGVsbG8=\"}"), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("body appended to", r -> with(r, r.headers(), BODY + " "), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("a signed header altered", r -> with(r, header(r.headers(), "x-amz-target", "TrentService.Decrypt"), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("the host altered", r -> with(r, header(r.headers(), "host", "evil.example:8443"), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("a query added", r -> new SigV4Verifier.SignedRequest("POST", "/", "x=1", r.headers(), r.body()), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("another path", r -> new SigV4Verifier.SignedRequest("POST", "/other", null, r.headers(), r.body()), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("another method", r -> new SigV4Verifier.SignedRequest("PUT", "/", null, r.headers(), r.body()), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("x-amz-content-sha256 not the body's", r -> with(r, header(r.headers(), "x-amz-content-sha256", HEX.formatHex(SigV4Verifier.sha256("{}".getBytes(StandardCharsets.UTF_8)))), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("the signature's last digit changed", r -> with(r, authorization(r, a -> a.substring(0, a.length() - 1) + (a.endsWith("0") ? "1" : "0")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("a signature that is not hex", r -> with(r, authorization(r, a -> a.replaceAll("Signature=.*", "Signature=zz")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "The request signature we calculated"),
        wire("no Authorization", r -> with(r, without(r.headers(), "authorization"), new String(r.body(), StandardCharsets.UTF_8)), KmsError.MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token"),
        wire("no X-Amz-Date", r -> with(r, without(r.headers(), "x-amz-date"), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INCOMPLETE_SIGNATURE, "X-Amz-Date"),
        wire("X-Amz-Date not ISO-8601 basic", r -> with(r, header(r.headers(), "x-amz-date", "2026-11-29T20:00:00Z"), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INCOMPLETE_SIGNATURE, "Date must be in ISO-8601 'basic format'"),
        wire("host not signed", r -> with(r, authorization(r, a -> a.replace("SignedHeaders=", "SignedHeaders=x-").replace("x-amz-date;", "").replace(";host;", ";")
            .replaceAll("SignedHeaders=[^,]*", "SignedHeaders=content-length;content-type;x-amz-date;x-amz-target")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INCOMPLETE_SIGNATURE, "'Host' or ':authority' must be a 'SignedHeader'"),
        wire("x-amz-date not signed", r -> with(r, authorization(r, a -> a.replaceAll("SignedHeaders=[^,]*", "SignedHeaders=content-length;content-type;host;x-amz-target")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INCOMPLETE_SIGNATURE, "'X-Amz-Date' must be a 'SignedHeader'"),
        wire("scope date not the X-Amz-Date's", r -> with(r, authorization(r, a -> a.replace("/20261129/", "/20261128/")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "Date in Credential scope does not match"),
        wire("scope terminator", r -> with(r, authorization(r, a -> a.replace("/aws4_request", "/aws5_request")), new String(r.body(), StandardCharsets.UTF_8)), KmsError.INVALID_SIGNATURE, "valid terminator"),
        raw("another algorithm", "AWS4-HMAC-SHA512 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "Unsupported AWS 'algorithm'"),
        raw("a bearer token", "Bearer abc", KmsError.INCOMPLETE_SIGNATURE, "Unsupported AWS 'algorithm'"),
        raw("no Credential", "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "requires 'Credential' parameter"),
        raw("no Signature", "AWS4-HMAC-SHA256 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date", KmsError.INCOMPLETE_SIGNATURE, "requires 'Signature' parameter"),
        raw("no SignedHeaders", "AWS4-HMAC-SHA256 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms/aws4_request, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "requires 'SignedHeaders' parameter"),
        raw("Credential with 4 parts", "AWS4-HMAC-SHA256 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms, SignedHeaders=host;x-amz-date, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "Credential must have exactly 5"),
        raw("a part without =", "AWS4-HMAC-SHA256 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms/aws4_request, SignedHeaders, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "malformed"),
        raw("a part twice", "AWS4-HMAC-SHA256 Credential=A/20261129/us-east-1/kms/aws4_request, Credential=B/20261129/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "malformed"),
        raw("empty signed header", "AWS4-HMAC-SHA256 Credential=AKIAHSMKITTEST000001/20261129/us-east-1/kms/aws4_request, SignedHeaders=host;;x-amz-date, Signature=00", KmsError.INCOMPLETE_SIGNATURE, "SignedHeaders is malformed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusesAsAwsDoes(String name, UnaryOperator<SdkSigning.Call> changeCall, UnaryOperator<SigV4Verifier.SignedRequest> changeWire,
      KmsError error, String message) {
    SigV4Verifier.SignedRequest r = changeWire.apply(SdkSigning.asVerifierInput(changeCall.apply(call())));
    assertThatThrownBy(() -> verifier.verify(r, "127.0.0.1", null))
        .isInstanceOfSatisfying(KmsException.class, e -> {
          assertThat(e.error()).isEqualTo(error);
          assertThat(e.getMessage()).contains(message).doesNotContain(StubCredentials.SECRET);
        });
    assertThat(credentials.allWiped()).as("every secret handed out was wiped").isTrue();
  }

  static Arguments sdk(String name, UnaryOperator<SdkSigning.Call> change, KmsError error, String message) {
    return Arguments.of(name, change, UnaryOperator.<SigV4Verifier.SignedRequest>identity(), error, message);
  }

  static Arguments wire(String name, UnaryOperator<SigV4Verifier.SignedRequest> change, KmsError error, String message) {
    return Arguments.of(name, UnaryOperator.<SdkSigning.Call>identity(), change, error, message);
  }

  static Arguments raw(String name, String authorization, KmsError error, String message) {
    return wire(name, r -> with(r, header(r.headers(), "authorization", authorization), new String(r.body(), StandardCharsets.UTF_8)), error, message);
  }

  static SigV4Verifier.SignedRequest with(SigV4Verifier.SignedRequest r, Map<String, List<String>> headers, String body) {
    return new SigV4Verifier.SignedRequest(r.method(), r.rawPath(), r.rawQuery(), headers, body.getBytes(StandardCharsets.UTF_8));
  }

  static Map<String, List<String>> header(Map<String, List<String>> h, String name, String value) {
    Map<String, List<String>> m = new LinkedHashMap<>(h);
    m.put(name, List.of(value));
    return m;
  }

  static Map<String, List<String>> without(Map<String, List<String>> h, String name) {
    Map<String, List<String>> m = new LinkedHashMap<>(h);
    m.remove(name);
    return m;
  }

  static Map<String, List<String>> authorization(SigV4Verifier.SignedRequest r, UnaryOperator<String> change) {
    return header(r.headers(), "authorization", change.apply(r.header("authorization")));
  }

  @Test
  void headersOfOneNameAreJoinedAndSpacesCollapsed() {
    Map<String, List<String>> h = new LinkedHashMap<>();
    h.put("X-Multi", new ArrayList<>(List.of("  a   b ", "c")));
    SigV4Verifier.SignedRequest r = new SigV4Verifier.SignedRequest("POST", "/", null, h, new byte[0]);
    assertThat(SigV4Verifier.canonicalRequest(r, List.of("x-multi"), "h")).isEqualTo("POST\n/\n\nx-multi:a b,c\n\nx-multi\nh");
  }
}
