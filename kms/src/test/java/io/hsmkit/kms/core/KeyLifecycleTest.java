package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static io.hsmkit.kms.core.Kms.symmetric;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.testing.TestDatabases;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CreateKey, DescribeKey, ListKeys, Enable/Disable, deletion and tags, on H2 and PostgreSQL. */
class KeyLifecycleTest {
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void createAndDescribeShowAwsMetadata(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    assertThat(m.keyId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    assertThat(m.arn()).isEqualTo("arn:aws:kms:eu-west-1:" + f.kms.accountId() + ":key/" + m.keyId());
    assertThat(m.awsAccountId()).isEqualTo(f.kms.accountId());
    assertThat(m.enabled()).isTrue();
    assertThat(m.keyState()).isEqualTo("Enabled");
    assertThat(m.keyUsage()).isEqualTo("ENCRYPT_DECRYPT");
    assertThat(m.keySpec()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(m.customerMasterKeySpec()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(m.encryptionAlgorithms()).containsExactly("SYMMETRIC_DEFAULT");
    assertThat(m.origin()).isEqualTo("AWS_KMS");
    assertThat(m.keyManager()).isEqualTo("CUSTOMER");
    assertThat(m.multiRegion()).isFalse();
    assertThat(m.creationDate()).isEqualTo(f.clock.instant());
    // The backing key is a sensitive, non-extractable token object labelled with the ARN.
    var key = (io.hsmkit.provider.keys.HsmKey) f.backing.find(m.arn());
    assertThat(key).isNotNull();
    assertThat(key.isTokenObject()).isTrue();
    assertThat(key.isSensitive()).isTrue();
    assertThat(key.isExtractable()).isFalse();
    assertThat(key.getEncoded()).isNull();
    // Described by id and by ARN alike.
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata()).isEqualTo(m);
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.arn(), null)).keyMetadata()).isEqualTo(m);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void unknownKeysAreNotFound(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    for (String id : List.of("1234abcd-12ab-34cd-56ef-1234567890ab", "not-a-key", "alias/none",
        "arn:aws:kms:eu-west-1:" + f.kms.accountId() + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")) {
      fails(KmsError.NOT_FOUND, () -> f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)));
    }
    fails(KmsError.VALIDATION, () -> f.kms.describeKey(f.caller, new DescribeKeyRequest(null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void createKeyValidatesItsParameters(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller, Kms.spec("NOPE_1", null)));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller, Kms.spec("ECC_NIST_P256", "ENCRYPT_DECRYPT")));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller, Kms.spec("SYMMETRIC_DEFAULT", "SIGN_VERIFY")));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest(null, null, null, "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", null, null, null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest(null, null, null, null, null, "AWS_CLOUDHSM", null, null, null, null)));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest(null, null, null, null, null, "AWS_CLOUDHSM", "cks-1234567890abcdef0", null, null, null)));
    fails(KmsError.MALFORMED_POLICY_DOCUMENT, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest("{not json", null, null, null, null, null, null, null, null, null)));
    fails(KmsError.TAG, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest(null, null, null, null, null, null, null, null, List.of(new Tag("aws:x", "y")), null)));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller,
        new CreateKeyRequest(null, "d".repeat(8193), null, null, null, null, null, null, null, null)));
    // Nothing half-made is left: no key listed.
    assertThat(f.kms.listKeys(f.caller, new ListKeysRequest(null, null)).keys()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void listKeysPages(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    Set<String> made = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      made.add(f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId());
    }
    Set<String> seen = new HashSet<>();
    String marker = null;
    int pages = 0;
    do {
      ListKeysResponse r = f.kms.listKeys(f.caller, new ListKeysRequest(2, marker));
      assertThat(r.keys()).hasSizeLessThanOrEqualTo(2);
      r.keys().forEach(e -> {
        assertThat(e.keyArn()).endsWith(e.keyId());
        seen.add(e.keyId());
      });
      marker = r.nextMarker();
      assertThat(r.truncated()).isEqualTo(marker != null);
      pages++;
    } while (marker != null);
    assertThat(seen).isEqualTo(made);
    assertThat(pages).isEqualTo(3);
    fails(KmsError.INVALID_MARKER, () -> f.kms.listKeys(f.caller, new ListKeysRequest(2, "garbage!")));
    fails(KmsError.VALIDATION, () -> f.kms.listKeys(f.caller, new ListKeysRequest(0, null)));
    fails(KmsError.VALIDATION, () -> f.kms.listKeys(f.caller, new ListKeysRequest(1001, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void disableAndEnable(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    f.kms.disableKey(f.caller, new DisableKeyRequest(id));
    KeyMetadata m = f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata();
    assertThat(m.keyState()).isEqualTo("Disabled");
    assertThat(m.enabled()).isFalse();
    fails(KmsError.DISABLED, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, new byte[] {1}, null, null, null)));
    f.kms.disableKey(f.caller, new DisableKeyRequest(id)); // idempotent, as AWS
    f.kms.enableKey(f.caller, new EnableKeyRequest(id));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata().keyState()).isEqualTo("Enabled");
    f.kms.encrypt(f.caller, new EncryptRequest(id, new byte[] {1}, null, null, null));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void scheduleDeletionWindowIsSevenToThirtyDays(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    fails(KmsError.VALIDATION, () -> f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 6)));
    fails(KmsError.VALIDATION, () -> f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 31)));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata().keyState()).isEqualTo("Enabled");
    ScheduleKeyDeletionResponse r = f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 7));
    assertThat(r.keyState()).isEqualTo("PendingDeletion");
    assertThat(r.pendingWindowInDays()).isEqualTo(7);
    assertThat(r.deletionDate()).isEqualTo(f.clock.instant().plus(Duration.ofDays(7)));
    assertThat(r.keyId()).startsWith("arn:aws:kms:");
    KeyMetadata m = f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata();
    assertThat(m.keyState()).isEqualTo("PendingDeletion");
    assertThat(m.deletionDate()).isEqualTo(r.deletionDate());
    assertThat(m.pendingDeletionWindowInDays()).isEqualTo(7);
    assertThat(m.enabled()).isFalse();
    // Pending deletion: crypto is KMSInvalidState, a second schedule too, enabling too.
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, new byte[] {1}, null, null, null)));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 7)));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.enableKey(f.caller, new EnableKeyRequest(id)));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.tagResource(f.caller, new TagResourceRequest(id, List.of(new Tag("a", "b")))));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void cancelDeletionLeavesTheKeyDisabled(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.cancelKeyDeletion(f.caller, new CancelKeyDeletionRequest(id)));
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, null));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata().pendingDeletionWindowInDays()).isEqualTo(30);
    assertThat(f.kms.cancelKeyDeletion(f.caller, new CancelKeyDeletionRequest(id)).keyId()).endsWith(id);
    KeyMetadata m = f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata();
    assertThat(m.keyState()).isEqualTo("Disabled");
    assertThat(m.deletionDate()).isNull();
    // Nothing is purged after a cancellation.
    f.clock.advance(Duration.ofDays(31));
    assertThat(f.kms.purgeExpired()).isEmpty();
    assertThat(f.backing.find(m.arn())).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void purgeDestroysTheTokenObjectWhenTheWindowEnds(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    String keep = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), new byte[] {1, 2}, null, null, null)).ciphertextBlob();
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    f.clock.advance(Duration.ofDays(7).minusSeconds(1));
    assertThat(f.kms.purgeExpired()).isEmpty();
    assertThat(f.backing.find(m.arn())).isNotNull();
    f.clock.advance(Duration.ofSeconds(1));
    assertThat(f.kms.purgeExpired()).containsExactly(m.arn());
    assertThat(f.backing.find(m.arn())).isNull();
    fails(KmsError.NOT_FOUND, () -> f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)));
    // A blob of the deleted key can no longer be decrypted.
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, null, null)));
    assertThat(f.kms.listKeys(f.caller, new ListKeysRequest(null, null)).keys()).extracting(KeyListEntry::keyId).containsExactly(keep);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void backgroundSchedulerPurges(TestDatabases.Kind kind) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    f.clock.advance(Duration.ofDays(8));
    f.kms.startBackgroundWork(Duration.ofMillis(50));
    try {
      long end = System.nanoTime() + 10_000_000_000L;
      while (f.backing.find(m.arn()) != null && System.nanoTime() < end) {
        Thread.sleep(50);
      }
      assertThat(f.backing.find(m.arn())).isNull();
    } finally {
      f.kms.close();
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void descriptionAndTags(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, new CreateKeyRequest(null, "first", null, null, null, null, null, null,
        List.of(new Tag("team", "a"), new Tag("env", "prod")), null)).keyMetadata().keyId();
    f.kms.updateKeyDescription(f.caller, new UpdateKeyDescriptionRequest(id, "second"));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(id, null)).keyMetadata().description()).isEqualTo("second");
    assertThat(f.kms.listResourceTags(f.caller, new ListResourceTagsRequest(id, null, null)).tags())
        .containsExactly(new Tag("env", "prod"), new Tag("team", "a"));
    f.kms.tagResource(f.caller, new TagResourceRequest(id, List.of(new Tag("team", "b"), new Tag("cost", "1"))));
    f.kms.untagResource(f.caller, new UntagResourceRequest(id, List.of("env", "absent")));
    ListResourceTagsResponse page = f.kms.listResourceTags(f.caller, new ListResourceTagsRequest(id, 1, null));
    assertThat(page.tags()).containsExactly(new Tag("cost", "1"));
    assertThat(page.truncated()).isTrue();
    assertThat(f.kms.listResourceTags(f.caller, new ListResourceTagsRequest(id, 5, page.nextMarker())).tags())
        .containsExactly(new Tag("team", "b"));
    fails(KmsError.TAG, () -> f.kms.tagResource(f.caller, new TagResourceRequest(id, List.of(new Tag("", "x")))));
    fails(KmsError.TAG, () -> f.kms.tagResource(f.caller, new TagResourceRequest(id, List.of(new Tag("k", "1"), new Tag("k", "2")))));
    fails(KmsError.VALIDATION, () -> f.kms.updateKeyDescription(f.caller, new UpdateKeyDescriptionRequest(id, "x".repeat(8193))));
    fails(KmsError.NOT_FOUND, () -> f.kms.tagResource(f.caller, new TagResourceRequest("1234abcd-12ab-34cd-56ef-1234567890ab", List.of(new Tag("a", "b")))));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void keyPolicies(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    GetKeyPolicyResponse p = f.kms.getKeyPolicy(f.caller, new GetKeyPolicyRequest(id, "default"));
    assertThat(p.policy()).contains("arn:aws:iam::" + f.kms.accountId() + ":root").contains("\"kms:*\"");
    assertThat(f.kms.listKeyPolicies(f.caller, new ListKeyPoliciesRequest(id, null, null)).policyNames()).containsExactly("default");
    String mine = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}";
    f.kms.putKeyPolicy(f.caller, new PutKeyPolicyRequest(id, "default", mine, null));
    assertThat(f.kms.getKeyPolicy(f.caller, new GetKeyPolicyRequest(id, null)).policy()).isEqualTo(mine);
    fails(KmsError.MALFORMED_POLICY_DOCUMENT, () -> f.kms.putKeyPolicy(f.caller, new PutKeyPolicyRequest(id, "default", "[1]", null)));
    fails(KmsError.NOT_FOUND, () -> f.kms.getKeyPolicy(f.caller, new GetKeyPolicyRequest(id, "other")));
  }
}
