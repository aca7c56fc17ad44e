package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static io.hsmkit.kms.core.Kms.symmetric;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.access.AccessRequest;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.testing.TestDatabases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Aliases and the rules around them; grants stored and handed to AccessControl; on H2 and PostgreSQL. */
class AliasAndGrantTest {
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aliasLifecycle(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata a = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    KeyMetadata b = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    f.kms.createAlias(f.caller, new CreateAliasRequest("alias/app/one", a.keyId()));
    f.kms.createAlias(f.caller, new CreateAliasRequest("alias/two", a.arn()));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest("alias/app/one", null)).keyMetadata().keyId()).isEqualTo(a.keyId());
    ListAliasesResponse all = f.kms.listAliases(f.caller, new ListAliasesRequest(null, null, null));
    assertThat(all.aliases()).extracting(AliasListEntry::aliasName).containsExactly("alias/app/one", "alias/two");
    assertThat(all.aliases().get(0).aliasArn()).isEqualTo("arn:aws:kms:eu-west-1:" + f.kms.accountId() + ":alias/app/one");
    assertThat(all.aliases().get(0).targetKeyId()).isEqualTo(a.keyId());
    f.kms.updateAlias(f.caller, new UpdateAliasRequest("alias/two", b.keyId()));
    assertThat(f.kms.listAliases(f.caller, new ListAliasesRequest(b.keyId(), null, null)).aliases())
        .extracting(AliasListEntry::aliasName).containsExactly("alias/two");
    ListAliasesResponse page = f.kms.listAliases(f.caller, new ListAliasesRequest(null, 1, null));
    assertThat(page.truncated()).isTrue();
    assertThat(f.kms.listAliases(f.caller, new ListAliasesRequest(null, 1, page.nextMarker())).aliases())
        .extracting(AliasListEntry::aliasName).containsExactly("alias/two");
    f.kms.deleteAlias(f.caller, new DeleteAliasRequest("alias/two"));
    fails(KmsError.NOT_FOUND, () -> f.kms.describeKey(f.caller, new DescribeKeyRequest("alias/two", null)));
    fails(KmsError.NOT_FOUND, () -> f.kms.deleteAlias(f.caller, new DeleteAliasRequest("alias/two")));
    fails(KmsError.NOT_FOUND, () -> f.kms.updateAlias(f.caller, new UpdateAliasRequest("alias/two", a.keyId())));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aliasRules(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    fails(KmsError.NOT_AUTHORIZED, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/aws/x", id)));
    fails(KmsError.VALIDATION, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("noprefix", id)));
    fails(KmsError.VALIDATION, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/", id)));
    fails(KmsError.VALIDATION, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/has space", id)));
    fails(KmsError.VALIDATION, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/" + "x".repeat(251), id)));
    fails(KmsError.NOT_FOUND, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/ok", "1234abcd-12ab-34cd-56ef-1234567890ab")));
    f.kms.createAlias(f.caller, new CreateAliasRequest("alias/dup", id));
    fails(KmsError.ALREADY_EXISTS, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/dup", id)));
    // An alias cannot name another alias.
    fails(KmsError.VALIDATION, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/chain", "alias/dup")));
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 7));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.createAlias(f.caller, new CreateAliasRequest("alias/late", id)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void updateAliasOnlyToTheSameTypeAndUsage(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String sym = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    String hmac = f.kms.createKey(f.caller, Kms.spec("HMAC_256", "GENERATE_VERIFY_MAC")).keyMetadata().keyId();
    String ec = f.kms.createKey(f.caller, Kms.spec("ECC_NIST_P256", "SIGN_VERIFY")).keyMetadata().keyId();
    f.kms.createAlias(f.caller, new CreateAliasRequest("alias/s", sym));
    fails(KmsError.VALIDATION, () -> f.kms.updateAlias(f.caller, new UpdateAliasRequest("alias/s", hmac)));
    fails(KmsError.VALIDATION, () -> f.kms.updateAlias(f.caller, new UpdateAliasRequest("alias/s", ec)));
    String sym2 = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    f.kms.updateAlias(f.caller, new UpdateAliasRequest("alias/s", sym2));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest("alias/s", null)).keyMetadata().keyId()).isEqualTo(sym2);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void grantsAreStoredListedRetiredAndRevoked(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    String bob = "arn:aws:iam::" + f.kms.accountId() + ":user/bob";
    String carol = "arn:aws:iam::" + f.kms.accountId() + ":user/carol";
    CreateGrantResponse g1 = f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, carol, List.of("Encrypt", "Decrypt"),
        new GrantConstraints(Map.of("tenant", "t1"), null), null, "g1"));
    assertThat(g1.grantToken()).isNotBlank();
    // Same name and parameters: the same grant (AWS's idempotence).
    assertThat(f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, carol, List.of("Decrypt", "Encrypt"),
        new GrantConstraints(Map.of("tenant", "t1"), null), null, "g1")).grantId()).isEqualTo(g1.grantId());
    CreateGrantResponse g2 = f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, null, List.of("GenerateDataKey"), null, null, null));
    ListGrantsResponse l = f.kms.listGrants(f.caller, new ListGrantsRequest(null, null, id, null, null));
    assertThat(l.grants()).extracting(GrantListEntry::grantId).containsExactlyInAnyOrder(g1.grantId(), g2.grantId());
    GrantListEntry e1 = l.grants().stream().filter(g -> g.grantId().equals(g1.grantId())).findFirst().orElseThrow();
    assertThat(e1.operations()).containsExactly("Decrypt", "Encrypt");
    assertThat(e1.constraints().encryptionContextSubset()).isEqualTo(Map.of("tenant", "t1"));
    assertThat(e1.issuingAccount()).isEqualTo("arn:aws:iam::" + f.kms.accountId() + ":root");
    assertThat(f.kms.listRetirableGrants(f.caller, new ListRetirableGrantsRequest(null, null, carol)).grants())
        .extracting(GrantListEntry::grantId).containsExactly(g1.grantId());
    // Carol (the retiring principal) retires g1 by token; its token is then unknown.
    Caller carolCaller = Caller.of(carol, f.kms.accountId(), null);
    f.kms.retireGrant(carolCaller, new RetireGrantRequest(g1.grantToken(), null, null));
    fails(KmsError.INVALID_GRANT_TOKEN, () -> f.kms.retireGrant(carolCaller, new RetireGrantRequest(g1.grantToken(), null, null)));
    f.kms.revokeGrant(f.caller, new RevokeGrantRequest(id, g2.grantId()));
    fails(KmsError.INVALID_GRANT_ID, () -> f.kms.revokeGrant(f.caller, new RevokeGrantRequest(id, g2.grantId())));
    assertThat(f.kms.listGrants(f.caller, new ListGrantsRequest(null, null, id, null, null)).grants()).isEmpty();
    fails(KmsError.VALIDATION, () -> f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, null, List.of("Fly"), null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, null, List.of(), null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.createGrant(f.caller, new CreateGrantRequest(id, bob, null, List.of("Encrypt"),
        new GrantConstraints(Map.of("a", "b"), Map.of("a", "b")), null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void everyCallAsksAccessControlWithPolicyGrantsAndContext(TestDatabases.Kind kind) {
    List<AccessRequest> asked = new ArrayList<>();
    AccessControl recording = r -> {
      asked.add(r);
      if (r.caller().principalArn().endsWith(":user/mallory")) {
        throw new KmsException(KmsError.ACCESS_DENIED, "User: " + r.caller().principalArn() + " is not authorized to perform: " + r.action());
      }
    };
    KmsFixture f = KmsFixture.create(kind, recording);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    f.kms.createGrant(f.caller, new CreateGrantRequest(m.keyId(), "arn:aws:iam::" + f.kms.accountId() + ":user/bob", null, List.of("Encrypt"), null, null, null));
    asked.clear();
    f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), new byte[] {1}, Map.of("k", "v"), List.of("tok"), null));
    assertThat(asked).hasSize(1);
    AccessRequest r = asked.get(0);
    assertThat(r.action()).isEqualTo("kms:Encrypt");
    assertThat(r.keyArn()).isEqualTo(m.arn());
    assertThat(r.keyPolicyJson()).contains(":root");
    assertThat(r.grants()).hasSize(1);
    assertThat(r.encryptionContext()).isEqualTo(Map.of("k", "v"));
    assertThat(r.grantTokens()).containsExactly("tok");
    Caller mallory = Caller.of("arn:aws:iam::" + f.kms.accountId() + ":user/mallory", f.kms.accountId(), null);
    fails(KmsError.ACCESS_DENIED, () -> f.kms.encrypt(mallory, new EncryptRequest(m.keyId(), new byte[] {1}, null, null, null)));
    fails(KmsError.ACCESS_DENIED, () -> f.kms.disableKey(mallory, new DisableKeyRequest(m.keyId())));
    fails(KmsError.ACCESS_DENIED, () -> f.kms.scheduleKeyDeletion(mallory, new ScheduleKeyDeletionRequest(m.keyId(), 7)));
    fails(KmsError.ACCESS_DENIED, () -> f.kms.createKey(mallory, symmetric()));
    // Denied calls changed nothing.
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Enabled");
    assertThat(f.kms.listKeys(f.caller, new ListKeysRequest(null, null)).keys()).hasSize(1);
  }
}
