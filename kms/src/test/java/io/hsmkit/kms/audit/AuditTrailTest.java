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
    // The chain alone: record 2 matches its new hash, the link from record 3 breaks.
    AuditTrail.Verification chain = new AuditTrail(f.db).verify();
    assertThat(chain.intact()).isFalse();
    assertThat(chain.firstBadRecord()).isEqualTo(3);
    // Sealed: record 2 itself is found, its MAC no longer matches its hash.
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(2);
    assertThat(v.problem()).contains("MAC");
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

  /** Rewrites record {@code from}'s JSON with {@code edit} and recomputes every later hash and the head, as a database writer can. */
  static void rewriteChainFrom(KmsFixture f, long from, java.util.function.UnaryOperator<String> edit) {
    f.db.inTransaction(c -> {
      String prev;
      try (var st = c.prepareStatement("SELECT record_hash FROM kms_audit WHERE seq_no = ?")) {
        st.setLong(1, from - 1);
        try (var rs = st.executeQuery()) {
          prev = rs.next() ? rs.getString(1) : AuditTrail.ZERO_HASH;
        }
      }
      List<Object[]> rows = new java.util.ArrayList<>();
      try (var st = c.prepareStatement("SELECT seq_no, record_json FROM kms_audit WHERE seq_no >= ? ORDER BY seq_no")) {
        st.setLong(1, from);
        try (var rs = st.executeQuery()) {
          while (rs.next()) {
            rows.add(new Object[] {rs.getLong(1), rs.getString(2)});
          }
        }
      }
      for (Object[] r : rows) {
        String json = (Long) r[0] == from ? edit.apply((String) r[1]) : (String) r[1];
        String h = AuditTrail.hash(prev, json);
        try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit SET record_json = ?, prev_hash = ?, record_hash = ? WHERE seq_no = ?")) {
          st.setString(1, json);
          st.setString(2, prev);
          st.setString(3, h);
          st.setLong(4, (Long) r[0]);
          st.executeUpdate();
        }
        prev = h;
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit_head SET head_hash = ? WHERE single_row = 1")) {
        st.setString(1, prev);
        return st.executeUpdate();
      }
    });
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void theTrailIsMacedInTheTokenByANonExtractableKey(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    assertThat(f.kms.auditTrail().sealed()).isTrue();
    long withMac = f.db.inTransaction(c -> {
      try (var st = c.prepareStatement("SELECT COUNT(*) FROM kms_audit WHERE record_mac IS NOT NULL"); var rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
    assertThat(withMac).isEqualTo(6);
    io.hsmkit.provider.keys.HsmKey key = (io.hsmkit.provider.keys.HsmKey) io.hsmkit.kms.access.TokenKeys
        .find(KmsFixture.provider(), AuditSeal.KEY_LABEL).orElseThrow();
    assertThat(key.isTokenObject()).isTrue();
    assertThat(key.isSensitive()).isTrue();
    assertThat(key.isExtractable()).isFalse();
    assertThat(key.getEncoded()).isNull();
  }

  /**
   * A writer of the database edits record 3 and recomputes every SHA-256 of the chain after it and
   * the head: the chain alone then verifies, the MACs made in the HSM do not.
   */
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void anEditedRecordWithTheWholeChainRecomputedIsFoundByItsMac(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    rewriteChainFrom(f, 3, json -> json.replace("192.0.2.7", "198.51.100.1"));
    assertThat(new AuditTrail(f.db).verify().intact()).as("the hash chain alone is rebuilt").isTrue();
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(3);
    assertThat(v.records()).isEqualTo(2);
    assertThat(v.problem()).contains("rewritten").contains("MAC");
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aRecordWhoseMacWasRemovedIsFound(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> c.prepareStatement("UPDATE kms_audit SET record_mac = NULL WHERE seq_no = 2").executeUpdate());
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(2);
    assertThat(v.problem()).contains("has no MAC");
  }

  /** The last record cut off and the head pointed back at record 5: consistent hashes, but no head MAC for it. */
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aCutOffEndWithTheHeadPointedBackIsFound(TestDatabases.Kind kind) {
    KmsFixture f = withHistory(kind);
    f.db.inTransaction(c -> {
      c.prepareStatement("DELETE FROM kms_audit WHERE seq_no = 6").executeUpdate();
      return c.prepareStatement("UPDATE kms_audit_head SET record_count = 5, head_hash = (SELECT record_hash FROM kms_audit WHERE seq_no = 5)")
          .executeUpdate();
    });
    assertThat(new AuditTrail(f.db).verify().intact()).as("the hash chain alone is consistent").isTrue();
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.firstBadRecord()).isEqualTo(6);
    assertThat(v.problem()).contains("head");
  }

  /** A trail written before sealing: the sealed check finds it unsealed; sealed as it is, it verifies; a broken one is not sealed. */
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aTrailFromBeforeSealingIsSealedOnlyWhenItsChainHolds(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    AuditTrail plain = new AuditTrail(f.db);
    AuditTrail sealed = KmsFixture.sealedTrail(f.db);
    var rec = AuditEvents.event(java.time.Instant.EPOCH, "eu-west-1", f.caller, "ListKeys", new ListKeysRequest(null, null), null, null, null,
        List.of(), f.kms.accountId(), "r");
    plain.append(rec);
    plain.append(rec);
    assertThat(sealed.verify().problem()).contains("record 1 has no MAC");
    assertThat(sealed.sealExisting()).isEqualTo(2);
    assertThat(sealed.verify().intact()).as(sealed.verify().problem()).isTrue();
    sealed.append(rec);
    assertThat(sealed.verify().records()).isEqualTo(3);
    // A broken chain is never sealed.
    plain.append(rec);
    f.db.inTransaction(c -> c.prepareStatement("UPDATE kms_audit SET record_json = REPLACE(record_json, 'ListKeys', 'ListAliases') WHERE seq_no = 4")
        .executeUpdate());
    assertThat(catchThrowable(sealed::sealExisting)).isInstanceOf(io.hsmkit.kms.KmsException.class).hasMessageContaining("record 4");
  }

  /**
   * The service's own work is in the same chain, as AWS service events: automatic rotation as
   * RotateKey and the end of a deletion window as DeleteKey, both by {@code AWSService}
   * "kms.amazonaws.com", the key as resource; the trail still verifies with its MACs.
   */
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void rotationAndThePurgeAreAuditedAsServiceEvents(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String rotated = f.kms.createKey(f.caller, new CreateKeyRequest(null, "rotated", null, null, null, null, null, null, null, null))
        .keyMetadata().arn();
    String deleted = f.kms.createKey(f.caller, new CreateKeyRequest(null, "deleted", null, null, null, null, null, null, null, null))
        .keyMetadata().arn();
    f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(rotated, 90));
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(deleted, 7));
    f.clock.advance(java.time.Duration.ofDays(8));
    assertThat(f.kms.purgeExpired()).containsExactly(deleted);
    // Nothing due yet: no record.
    assertThat(f.kms.rotateDue()).isEmpty();
    f.clock.advance(java.time.Duration.ofDays(90));
    assertThat(f.kms.rotateDue()).containsExactly(rotated);
    List<JsonNode> r = f.kms.auditTrail().records();
    assertThat(r).extracting(n -> n.get("eventName").asText())
        .containsExactly("CreateKey", "CreateKey", "EnableKeyRotation", "ScheduleKeyDeletion", "DeleteKey", "RotateKey");
    for (int i : new int[] {4, 5}) {
      JsonNode e = r.get(i);
      assertThat(e.at("/userIdentity/type").asText()).isEqualTo("AWSService");
      assertThat(e.at("/userIdentity/invokedBy").asText()).isEqualTo("kms.amazonaws.com");
      assertThat(e.at("/userIdentity/accountId").asText()).isEqualTo(f.kms.accountId());
      assertThat(e.get("eventType").asText()).isEqualTo("AwsServiceEvent");
      assertThat(e.get("eventSource").asText()).isEqualTo("kms.amazonaws.com");
      assertThat(e.get("sourceIPAddress").asText()).isEqualTo("kms.amazonaws.com");
      assertThat(e.get("requestParameters").isNull()).isTrue();
      assertThat(e.get("readOnly").asBoolean()).isFalse();
      assertThat(e.has("errorCode")).isFalse();
      assertThat(e.at("/resources/0/type").asText()).isEqualTo("AWS::KMS::Key");
    }
    assertThat(r.get(4).at("/resources/0/ARN").asText()).isEqualTo(deleted);
    assertThat(r.get(4).at("/serviceEventDetails/keyId").asText()).isEqualTo(deleted.substring(deleted.lastIndexOf('/') + 1));
    assertThat(r.get(4).get("eventTime").asText()).isEqualTo("2026-12-07T20:00:00Z");
    assertThat(r.get(5).at("/resources/0/ARN").asText()).isEqualTo(rotated);
    AuditTrail.Verification v = f.kms.auditTrail().verify();
    assertThat(v.intact()).as(v.problem()).isTrue();
    assertThat(v.records()).isEqualTo(6);
  }
}
