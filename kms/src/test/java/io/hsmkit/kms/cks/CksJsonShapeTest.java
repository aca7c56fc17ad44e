package io.hsmkit.kms.cks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request and response records map onto AWS's JSON members with Jackson and
 * UPPER_CAMEL_CASE, as the endpoint will use them; passwords never show in toString.
 */
class CksJsonShapeTest {
  private final ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE);

  @Test
  void requestsReadAwsJson() throws Exception {
    CreateCustomKeyStoreRequest c = json.readValue("{\"CustomKeyStoreName\":\"ExampleKeyStore\",\"CloudHsmClusterId\":\"cluster-234abcdefABC\","
        + "\"TrustAnchorCertificate\":\"-----BEGIN CERTIFICATE-----\",\"KeyStorePassword\":\"kmsPswd\",\"CustomKeyStoreType\":\"AWS_CLOUDHSM\"}",
        CreateCustomKeyStoreRequest.class);
    assertThat(c).isEqualTo(new CreateCustomKeyStoreRequest("ExampleKeyStore", "cluster-234abcdefABC", "-----BEGIN CERTIFICATE-----", "kmsPswd",
        "AWS_CLOUDHSM"));
    assertThat(c.toString()).doesNotContain("kmsPswd");

    UpdateCustomKeyStoreRequest u = json.readValue("{\"CustomKeyStoreId\":\"cks-1234567890abcdef0\",\"NewCustomKeyStoreName\":\"n\","
        + "\"KeyStorePassword\":\"secret77\",\"CloudHsmClusterId\":\"cluster-x\"}", UpdateCustomKeyStoreRequest.class);
    assertThat(u).isEqualTo(new UpdateCustomKeyStoreRequest("cks-1234567890abcdef0", "n", "secret77", "cluster-x"));
    assertThat(u.toString()).doesNotContain("secret77");

    assertThat(json.readValue("{\"CustomKeyStoreName\":\"n\",\"Limit\":5,\"Marker\":\"m\"}", DescribeCustomKeyStoresRequest.class))
        .isEqualTo(new DescribeCustomKeyStoresRequest(null, "n", 5, "m"));
    assertThat(json.readValue("{\"CustomKeyStoreId\":\"cks-1\"}", ConnectCustomKeyStoreRequest.class).customKeyStoreId()).isEqualTo("cks-1");
    assertThat(json.readValue("{\"CustomKeyStoreId\":\"cks-1\"}", DisconnectCustomKeyStoreRequest.class).customKeyStoreId()).isEqualTo("cks-1");
    assertThat(json.readValue("{\"CustomKeyStoreId\":\"cks-1\"}", DeleteCustomKeyStoreRequest.class).customKeyStoreId()).isEqualTo("cks-1");
  }

  @Test
  void responsesWriteAwsJson() throws Exception {
    assertThat(json.writeValueAsString(new CreateCustomKeyStoreResponse("cks-1"))).isEqualTo("{\"CustomKeyStoreId\":\"cks-1\"}");
    assertThat(json.writeValueAsString(new ConnectCustomKeyStoreResponse())).isEqualTo("{}");
    // (CreationDate is a java.time.Instant: the endpoint's mapper writes it as epoch seconds.)
    assertThat(json.writeValueAsString(new DescribeCustomKeyStoresResponse(List.of(), null, false)))
        .isEqualTo("{\"CustomKeyStores\":[],\"NextMarker\":null,\"Truncated\":false}");
  }
}
