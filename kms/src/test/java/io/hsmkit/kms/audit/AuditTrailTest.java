package io.hsmkit.kms.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.core.KmsFixture;
import io.hsmkit.kms.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The audit trail: one CloudTrail-shaped record per call, no secrets, and a chain that shows edits and removals. */
class AuditTrailTest {
  static final byte[] SECRET = "top-secret-plaintext".getBytes(StandardCharsets.UTF_8);

  /** A service with some history: create, encrypt, decrypt, a data key, a failed call, an alias. */
  static KmsFixture withHistory(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    Caller wire = f.caller.withWire("AKIAEXAMPLE", "192.0.2.7", "aws-sdk-java/2.x");
    String id = f.kms.createKey(wire, new CreateKeyRequest(null, "audited", null, null, null, null, null, null, null, null)).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(wire, new EncryptRequest(id, SECRET, Map.of("ctx", "v"), List.of("grant-token-secret"), null)).ciphertextBlob();
    f.kms.decrypt(wire, new DecryptRequest(blob, Map.of("ctx", "v"), null, null, null));
    f.kms.generateDataKey(wire, new GenerateDataKeyRequest(id, null, null, "AES_256", null));
    catchThrowable(() -> f.kms.decrypt(wire, new DecryptRequest(blob, Map.of("ctx", "other"), null, null, null)));
    f.kms.createAlias(wire, new CreateAliasRequest("alias/audited", id));
    return f;
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void everyCallIsOneCloudTrailRecordWithoutSecrets(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    List<JsonNode> r = f.kms.auditTrail().records();
    assertThat(r).extracting(n -> n.get("eventName").asText())
        .containsExactly("CreateKey", "Encrypt", "Decrypt", "GenerateDataKey", "Decrypt", "CreateAlias");
    JsonNode enc = r.get(1);
    assertThat(enc.get("eventVersion").asText()).isEqualTo("1.08");
    assertThat(enc.get("eventSource").asText()).isEqualTo("kms.amazonaws.com");
    assertThat(enc.get("awsRegion").asText()).isEqualTo("eu-west-1");
    assertThat(enc.get("eventTime").asText()).isEqualTo("2026-11-29T20:00:00Z");
    assertThat(enc.get("sourceIPAddress").asText()).isEqualTo("192.0.2.7");
    assertThat(enc.get("userAgent").asText()).isEqualTo("aws-sdk-java/2.x");
    assertThat(enc.at("/userIdentity/type").asText()).isEqualTo("IAMUser");
    assertThat(enc.at("/userIdentity/arn").asText()).isEqualTo(f.caller.principalArn());
    assertThat(enc.at("/userIdentity/accountId").asText()).isEqualTo(f.kms.accountId());
    assertThat(enc.at("/userIdentity/accessKeyId").asText()).isEqualTo("AKIAEXAMPLE");
    assertThat(enc.at("/requestParameters/encryptionContext/ctx").asText()).isEqualTo("v");
    assertThat(enc.at("/requestParameters/keyId").isMissingNode()).isFalse();
    assertThat(enc.get("responseElements").isNull()).isTrue();
    assertThat(enc.get("requestID").asText()).isNotBlank();
    assertThat(enc.get("eventID").asText()).isNotEqualTo(r.get(2).get("eventID").asText());
    assertThat(enc.at("/resources/0/type").asText()).isEqualTo("AWS::KMS::Key");
    assertThat(enc.at("/resources/0/ARN").asText()).startsWith("arn:aws:kms:eu-west-1:");
    assertThat(enc.has("errorCode")).isFalse();
    // CreateKey carries its response (KeyMetadata), as CloudTrail shows it.
    assertThat(r.get(0).at("/responseElements/keyMetadata/keyState").asText()).isEqualTo("Enabled");
    // The failed Decrypt: errorCode and message, the key as resource.
    JsonNode failed = r.get(4);
    assertThat(failed.get("errorCode").asText()).isEqualTo("InvalidCiphertextException");
    assertThat(failed.get("errorMessage").asText()).isNotBlank();
    assertThat(failed.at("/resources/0/ARN").asText()).isEqualTo(r.get(1).at("/resources/0/ARN").asText());
    // No plaintext, blob, data key or grant token anywhere in the trail.
    String all = r.toString();
    assertThat(all).doesNotContain("top-secret-plaintext")
        .doesNotContain(Base64.getEncoder().encodeToString(SECRET))
        .doesNotContain(HexFormat.of().formatHex(SECRET))
        .doesNotContain("grant-token-secret")
        .doesNotContain("plaintext\"").doesNotContain("ciphertextBlob");
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void theEndpointsRequestIdBecomesTheRecordsRequestId(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    io.hsmkit.kms.KmsService.withRequestId("req-1234", () -> f.kms.listKeys(f.caller, new ListKeysRequest(null, null)));
    f.kms.listKeys(f.caller, new ListKeysRequest(null, null));
    List<JsonNode> r = f.kms.auditTrail().records();
    assertThat(r.get(0).get("requestID").asText()).isEqualTo("req-1234");
    assertThat(r.get(1).get("requestID").asText()).isNotEqualTo("req-1234").isNotBlank();
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void anIntactTrailVerifies(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).as(v.problem()).isTrue();
    assertThat(v.records()).isEqualTo(6);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void anEditedRecordIsFound(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit SET record_json = REPLACE(record_json, '192.0.2.7', '198.51.100.1') WHERE seq_no = 3")) {
        return st.executeUpdate();
      }
    });
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(3);
    assertThat(v.problem()).contains("altered");
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void anEditedRecordWithARecomputedHashBreaksTheNextLink(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> {
      String prev;
      String json;
      try (var st = c.prepareStatement("SELECT prev_hash, record_json FROM kms_audit WHERE seq_no = 2"); var rs = st.executeQuery()) {
        rs.next();
        prev = rs.getString(1);
        json = rs.getString(2).replace("Encrypt", "Decrypt");
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit SET record_json = ?, record_hash = ? WHERE seq_no = 2")) {
        st.setString(1, json);
        st.setString(2, AuditTrail.hash(prev, json));
        return st.executeUpdate();
      }
    });
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(3);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aRemovedRecordInTheMiddleIsFound(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> c.prepareStatement("DELETE FROM kms_audit WHERE seq_no = 4").executeUpdate());
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(4);
    assertThat(v.problem()).contains("missing");
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aRemovedLastRecordIsFound(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> c.prepareStatement("DELETE FROM kms_audit WHERE seq_no = 6").executeUpdate());
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(6);
    assertThat(v.problem()).contains("removed from the end");
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void theChainContinuesAcrossServiceInstances(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.another().listKeys(f.caller, new ListKeysRequest(null, null));
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).as(v.problem()).isTrue();
    assertThat(v.records()).isEqualTo(7);
  }
}
