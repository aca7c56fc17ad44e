package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The AWS JSON 1.1 mapping: AWS member names, base64 blobs, epoch-second timestamps, strict reading. */
class KmsJsonTest {
  enum Spec { SYMMETRIC_DEFAULT, RSA_2048 }

  /** Shaped like the core's request records: AWS member names lower-camel-cased. */
  record Req(String keyId, byte[] plaintext, Map<String, String> encryptionContext, List<String> grantTokens,
      Integer numberOfBytes, Boolean dryRun, Spec keySpec, Instant validTo) {}

  /** A member whose AWS name starts with an acronym needs its name spelt out. */
  record Meta(String keyId, @JsonProperty("AWSAccountId") String awsAccountId, Instant creationDate, String description) {}

  record Checked(String keyId) {
    Checked {
      if (keyId != null && keyId.isEmpty()) {
        throw new KmsException(KmsError.VALIDATION, "1 validation error detected: KeyId must not be empty");
      }
      if ("npe".equals(keyId)) {
        throw new IllegalArgumentException("keyId is odd");
      }
    }
  }

  static JsonNode json(String s) {
    return KmsJson.parseBody(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsAwsMembers() {
    byte[] bin = new byte[256];
    for (int i = 0; i < 256; i++) {
      bin[i] = (byte) i;
    }
    Req r = KmsJson.read(json("{\"KeyId\":\"alias/a\",\"Plaintext\":\"" + Base64.getEncoder().encodeToString(bin) + "\","
        + "\"EncryptionContext\":{\"ab\":\"c\"},\"GrantTokens\":[\"t1\"],\"NumberOfBytes\":32,\"DryRun\":false,"
        + "\"KeySpec\":\"RSA_2048\",\"ValidTo\":1700000000.5}"), Req.class);
    assertThat(r.keyId()).isEqualTo("alias/a");
    assertThat(r.plaintext()).isEqualTo(bin);
    assertThat(r.encryptionContext()).containsExactly(Map.entry("ab", "c"));
    assertThat(r.grantTokens()).containsExactly("t1");
    assertThat(r.numberOfBytes()).isEqualTo(32);
    assertThat(r.dryRun()).isFalse();
    assertThat(r.keySpec()).isEqualTo(Spec.RSA_2048);
    assertThat(r.validTo()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 500_000_000));
  }

  @Test
  void anEmptyBodyIsAnEmptyObject() {
    assertThat(KmsJson.parseBody(new byte[0]).size()).isZero();
    Req r = KmsJson.read(json("{}"), Req.class);
    assertThat(r.keyId()).isNull();
    assertThat(KmsJson.read(json("{\"KeyId\":null}"), Req.class).keyId()).isNull();
  }

  @Test
  void writesAwsMembersAndLeavesNullsOut() {
    Meta m = new Meta("k1", "111122223333", Instant.ofEpochSecond(1_700_000_000L, 123_000_000), null);
    assertThat(new String(KmsJson.write(m), StandardCharsets.UTF_8))
        .isEqualTo("{\"KeyId\":\"k1\",\"AWSAccountId\":\"111122223333\",\"CreationDate\":1700000000.123}");
    assertThat(new String(KmsJson.write(new Meta("k", null, Instant.ofEpochSecond(5), null)), StandardCharsets.UTF_8))
        .isEqualTo("{\"KeyId\":\"k\",\"CreationDate\":5}");
    assertThat(new String(KmsJson.write(null), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(new String(KmsJson.write(new Req(null, new byte[] {1, 2, 3}, null, null, null, null, null, null)), StandardCharsets.UTF_8))
        .isEqualTo("{\"Plaintext\":\"AQID\"}");
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "1700000000, 1700000000", "1700000000.000000001, 1700000000.000000001", "-1.5, -1.5", "1.10, 1.1"})
  void timestampsRoundTrip(String in, String out) {
    Meta m = KmsJson.read(json("{\"CreationDate\":" + in + "}"), Meta.class);
    assertThat(new String(KmsJson.write(m), StandardCharsets.UTF_8)).isEqualTo("{\"CreationDate\":" + out + "}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "an unknown member           | {\"KeyID\":\"a\"}                      | SerializationException | Unknown member 'KeyID'",
      "a number for a string       | {\"KeyId\":12}                         | SerializationException | Wrong JSON type for a string at 'KeyId'",
      "a boolean for a string      | {\"KeyId\":true}                       | SerializationException | at 'KeyId'",
      "an object for a string      | {\"KeyId\":{}}                         | SerializationException | at 'KeyId'",
      "a string for a number       | {\"NumberOfBytes\":\"32\"}             | SerializationException | at 'NumberOfBytes'",
      "a fraction for an integer   | {\"NumberOfBytes\":3.5}                | SerializationException | at 'NumberOfBytes'",
      "a string for a boolean      | {\"DryRun\":\"true\"}                  | SerializationException | at 'DryRun'",
      "a number for a boolean      | {\"DryRun\":1}                         | SerializationException | at 'DryRun'",
      "a number for a blob         | {\"Plaintext\":5}                      | SerializationException | at 'Plaintext'",
      "not base64 for a blob       | {\"Plaintext\":\"%%%\"}                | SerializationException | at 'Plaintext'",
      "an array for a blob         | {\"Plaintext\":[1,2,3]}                | SerializationException | Wrong JSON type for a blob (base64 string) at 'Plaintext'",
      "a string for a map          | {\"EncryptionContext\":\"a=b\"}        | SerializationException | at 'EncryptionContext'",
      "a number in a map           | {\"EncryptionContext\":{\"a\":1}}      | SerializationException | at 'EncryptionContext.a'",
      "a string for a list         | {\"GrantTokens\":\"t\"}                | SerializationException | at 'GrantTokens'",
      "a string for a timestamp    | {\"ValidTo\":\"2026-01-01T00:00:00Z\"} | SerializationException | at 'ValidTo'",
      "a value outside the enum    | {\"KeySpec\":\"AES_128\"}              | ValidationException    | Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSA_2048]",
      "a number for the enum       | {\"KeySpec\":1}                        | SerializationException | at 'KeySpec'"})
  void refusesWhatAwsRefuses(String name, String body, String awsName, String message) {
    assertThatThrownBy(() -> KmsJson.read(json(body), Req.class))
        .isInstanceOfSatisfying(KmsException.class, e -> {
          assertThat(e.error().awsName()).isEqualTo(awsName);
          assertThat(e.getMessage()).contains(message);
        });
  }

  @Test
  void theRecordsOwnValidationComesThrough() {
    assertThatThrownBy(() -> KmsJson.read(json("{\"KeyId\":\"\"}"), Checked.class))
        .isInstanceOfSatisfying(KmsException.class, e -> {
          assertThat(e.error()).isEqualTo(KmsError.VALIDATION);
          assertThat(e.getMessage()).isEqualTo("1 validation error detected: KeyId must not be empty");
        });
    assertThatThrownBy(() -> KmsJson.read(json("{\"KeyId\":\"npe\"}"), Checked.class))
        .isInstanceOfSatisfying(KmsException.class, e -> {
          assertThat(e.error()).isEqualTo(KmsError.VALIDATION);
          assertThat(e.getMessage()).contains("keyId is odd");
        });
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "not JSON          | {not json",
      "truncated         | {\"KeyId\":\"a\"",
      "an array          | [1,2]",
      "a string          | \"x\"",
      "trailing text     | {} {}",
      "a duplicate key   | {\"KeyId\":\"a\",\"KeyId\":\"b\"}",
      "NaN               | {\"NumberOfBytes\":NaN}",
      "a comment         | {/* c */}"})
  void malformedBodiesAreSerializationErrors(String name, String body) {
    assertThatThrownBy(() -> KmsJson.parseBody(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(KmsException.class, e -> {
          assertThat(e.error()).isEqualTo(KmsError.SERIALIZATION);
          assertThat(e.getMessage()).doesNotContain(body);
        });
  }

  @Test
  void errorBodyIsAwsShape() {
    assertThat(new String(KmsJson.errorBody(KmsError.NOT_FOUND, "Key 'arn:x' does not exist"), StandardCharsets.UTF_8))
        .isEqualTo("{\"__type\":\"NotFoundException\",\"message\":\"Key 'arn:x' does not exist\"}");
  }
}
