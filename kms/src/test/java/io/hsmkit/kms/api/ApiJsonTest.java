package io.hsmkit.kms.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The records map onto AWS's JSON member names with UPPER_CAMEL_CASE, as the endpoint will use them. */
class ApiJsonTest {
  static final ObjectMapper AWS = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
      .registerModule(new SimpleModule().addSerializer(Instant.class, ToStringSerializer.instance));

  @Test
  void awsJsonReadsIntoRequests() throws Exception {
    EncryptRequest e = AWS.readValue("{\"KeyId\":\"alias/x\",\"Plaintext\":\"aGVsbG8=\",\"EncryptionContext\":{\"a\":\"b\"},"
        + "\"GrantTokens\":[\"t\"],\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}", EncryptRequest.class);
    assertThat(e.keyId()).isEqualTo("alias/x");
    assertThat(new String(e.plaintext())).isEqualTo("hello");
    assertThat(e.encryptionContext()).isEqualTo(Map.of("a", "b"));
    assertThat(e.grantTokens()).containsExactly("t");
    CreateKeyRequest c = AWS.readValue("{\"Description\":\"d\",\"KeySpec\":\"RSA_2048\",\"KeyUsage\":\"SIGN_VERIFY\","
        + "\"Tags\":[{\"TagKey\":\"k\",\"TagValue\":\"v\"}]}", CreateKeyRequest.class);
    assertThat(c.tags()).containsExactly(new Tag("k", "v"));
    assertThat(c.keySpec()).isEqualTo("RSA_2048");
    GenerateDataKeyRequest g = AWS.readValue("{\"KeyId\":\"k\",\"NumberOfBytes\":32}", GenerateDataKeyRequest.class);
    assertThat(g.numberOfBytes()).isEqualTo(32);
    assertThat(g.keySpec()).isNull();
  }

  @Test
  void responsesWriteAwsMemberNames() {
    KeyMetadata m = new KeyMetadata("111122223333", "id", "arn", Instant.EPOCH, true, "", "ENCRYPT_DECRYPT", "Enabled", null,
        "AWS_KMS", null, "CUSTOMER", "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", List.of("SYMMETRIC_DEFAULT"), null, null, false, null);
    JsonNode n = AWS.valueToTree(new DescribeKeyResponse(m));
    assertThat(n.at("/KeyMetadata/AWSAccountId").asText()).isEqualTo("111122223333");
    assertThat(n.at("/KeyMetadata/KeyId").asText()).isEqualTo("id");
    assertThat(n.at("/KeyMetadata/KeyState").asText()).isEqualTo("Enabled");
    assertThat(n.at("/KeyMetadata/EncryptionAlgorithms/0").asText()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(n.at("/KeyMetadata/MultiRegion").asBoolean()).isFalse();
    JsonNode d = AWS.valueToTree(new DecryptResponse("arn", "hello".getBytes(), "SYMMETRIC_DEFAULT"));
    assertThat(d.get("Plaintext").asText()).isEqualTo("aGVsbG8=");
    assertThat(d.get("KeyId").asText()).isEqualTo("arn");
  }

  @Test
  void toStringNeverShowsPlaintext() {
    DecryptResponse d = new DecryptResponse("arn", "secret-bytes".getBytes(), "SYMMETRIC_DEFAULT");
    assertThat(d.toString()).doesNotContain("secret").contains("12 bytes");
    EncryptRequest e = new EncryptRequest("k", "secret-bytes".getBytes(), null, null, null);
    assertThat(e.toString()).doesNotContain("secret");
  }
}
