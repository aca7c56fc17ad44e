package io.hsmkit.kms.access;

import static io.hsmkit.kms.access.PolicyAccessControlTest.ALICE;
import static io.hsmkit.kms.access.PolicyAccessControlTest.BOB;
import static io.hsmkit.kms.access.PolicyAccessControlTest.CAROL;
import static io.hsmkit.kms.access.PolicyAccessControlTest.KEY;
import static io.hsmkit.kms.access.PolicyAccessControlTest.KEY2;
import static io.hsmkit.kms.access.PolicyAccessControlTest.ROOT;
import static io.hsmkit.kms.access.PolicyAccessControlTest.caller;
import static io.hsmkit.kms.access.PolicyAccessControlTest.deny;
import static io.hsmkit.kms.access.PolicyAccessControlTest.idAllow;
import static io.hsmkit.kms.access.PolicyAccessControlTest.identity;
import static io.hsmkit.kms.access.PolicyAccessControlTest.keyPolicy;
import static io.hsmkit.kms.access.PolicyAccessControlTest.allow;
import static io.hsmkit.kms.access.PolicyAccessControlTest.stmt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.PolicyAccessControl.Basis;
import java.time.Instant;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Grants: operations, constraints, grant tokens, and who may create, retire and revoke them. */
class GrantsTest {
  static final Instant NOW = Instant.parse("2026-11-29T20:00:00Z");
  static final String OWNER_ONLY = keyPolicy(allow(ROOT, "kms:*"));
  /** A policy that names neither the grantees nor their account: only grants can let them in. */
  static final String ADMIN_ONLY = keyPolicy(allow("arn:aws:iam::111122223333:user/admin", "kms:*"));
  /** The grant tokens the service issued, for grants that still exist (the server looks them up in the grant table). */
  static final Set<String> ISSUED = Set.of("token-of-g1", "token-of-g2");

  static Grant grant(String id, String key, String grantee, String retiring, Set<String> ops, Grant.Constraints c) {
    return new Grant(id, key, "g-" + id, grantee, retiring, ROOT, ops, c, NOW);
  }

  static Grant.Constraints equalsC(Map<String, String> m) {
    return new Grant.Constraints(m, null);
  }

  static Grant.Constraints subsetC(Map<String, String> m) {
    return new Grant.Constraints(null, m);
  }

  static PolicyAccessControl ac() {
    return new PolicyAccessControl(ISSUED::contains);
  }

  static PolicyAccessControl.Decision decide(Caller c, String action, String policy, List<Grant> grants, Map<String, String> ec, List<String> tokens) {
    return ac().decide(new AccessRequest(c, action, KEY, policy, grants, ec, tokens), Map.of(), null);
  }

  static final Grant BOB_ENC = grant("g1", KEY, BOB, null, Set.of("Encrypt", "Decrypt", "DescribeKey"), null);
  static final Grant BOB_EQ = grant("g2", KEY, BOB, null, Set.of("Encrypt", "Decrypt", "DescribeKey"), equalsC(Map.of("a", "1")));
  static final Grant BOB_SUB = grant("g3", KEY, BOB, null, Set.of("Encrypt", "Decrypt", "GenerateDataKey"), subsetC(Map.of("a", "1", "b", "2")));

  /** name, grant, caller, action, encryption context, allowed. */
  static Stream<Arguments> grantCases() {
    return Stream.of(
        Arguments.of("grantee, operation granted", BOB_ENC, BOB, "kms:Encrypt", Map.of(), true),
        Arguments.of("grantee, operation not granted", BOB_ENC, BOB, "kms:ReEncryptFrom", Map.of(), false),
        Arguments.of("grantee, GenerateDataKey not implied by Encrypt", BOB_ENC, BOB, "kms:GenerateDataKey", Map.of(), false),
        Arguments.of("not the grantee", BOB_ENC, ALICE, "kms:Encrypt", Map.of(), false),
        Arguments.of("grant on another key", grant("g9", KEY2, BOB, null, Set.of("Encrypt"), null), BOB, "kms:Encrypt", Map.of(), false),
        Arguments.of("Equals: exact", BOB_EQ, BOB, "kms:Decrypt", Map.of("a", "1"), true),
        Arguments.of("Equals: key in other case (AWS: keys case-insensitive)", BOB_EQ, BOB, "kms:Decrypt", Map.of("A", "1"), true),
        Arguments.of("Equals: value in other case", BOB_EQ, BOB, "kms:Decrypt", Map.of("a", "I"), false),
        Arguments.of("Equals: extra pair", BOB_EQ, BOB, "kms:Decrypt", Map.of("a", "1", "b", "2"), false),
        Arguments.of("Equals: missing pair", BOB_EQ, BOB, "kms:Decrypt", Map.of(), false),
        Arguments.of("Equals: changed value", BOB_EQ, BOB, "kms:Decrypt", Map.of("a", "2"), false),
        Arguments.of("Equals: not applied to DescribeKey", BOB_EQ, BOB, "kms:DescribeKey", Map.of(), true),
        Arguments.of("Subset: exactly the pairs", BOB_SUB, BOB, "kms:GenerateDataKey", Map.of("a", "1", "b", "2"), true),
        Arguments.of("Subset: more pairs", BOB_SUB, BOB, "kms:Encrypt", Map.of("a", "1", "b", "2", "c", "3"), true),
        Arguments.of("Subset: one pair missing", BOB_SUB, BOB, "kms:Encrypt", Map.of("a", "1"), false),
        Arguments.of("Subset: {ab:c} is not {a:bc}", grant("g4", KEY, BOB, null, Set.of("Decrypt"), subsetC(Map.of("ab", "c"))), BOB, "kms:Decrypt", Map.of("a", "bc"), false),
        Arguments.of("grant to the account root, caller with identity", grant("g5", KEY, ROOT, null, Set.of("Encrypt"), null),
            ALICE + "|" + identity(idAllow("kms:Encrypt", "*")), "kms:Encrypt", Map.of(), true),
        Arguments.of("grant to the account root, caller without identity", grant("g5", KEY, ROOT, null, Set.of("Encrypt"), null), ALICE, "kms:Encrypt", Map.of(), false),
        Arguments.of("grant to another account's user", grant("g6", KEY, CAROL, null, Set.of("Encrypt"), null), CAROL, "kms:Encrypt", Map.of(), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grantCases")
  void grantsAllowTheirOperationsUnderTheirConstraints(String name, Grant g, String who, String action, Map<String, String> ec, boolean allowed) {
    String[] parts = who.split("\\|", 2);
    Caller c = caller(parts[0], parts.length > 1 ? parts[1] : null);
    PolicyAccessControl.Decision d = decide(c, action, ADMIN_ONLY, List.of(g), ec, List.of());
    assertThat(d.allowed()).isEqualTo(allowed);
    if (allowed) {
      assertThat(d.basis()).isEqualTo(Basis.GRANT);
      assertThat(d.grantId()).isEqualTo(g.grantId());
    } else {
      assertThat(d.basis()).isEqualTo(Basis.NO_KEY_POLICY_ALLOW);
    }
  }

  @Test
  void anExplicitDenyBeatsAGrant() {
    String policy = keyPolicy(allow(ROOT, "kms:*"), deny(BOB, "kms:Encrypt"));
    assertThat(decide(caller(BOB, null), "kms:Encrypt", policy, List.of(BOB_ENC), Map.of(), List.of()).basis()).isEqualTo(Basis.EXPLICIT_DENY_KEY_POLICY);
  }

  @Test
  void aRetiredOrRevokedGrantNoLongerAllows() {
    AccessRequest listed = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(BOB_ENC), Map.of(), List.of("token-of-g1"));
    assertThat(ac().decide(listed, Map.of(), null).allowed()).isTrue();
    // The core drops retired and revoked grants from the list: the grant no longer counts...
    assertThat(decide(caller(BOB, null), "kms:Encrypt", OWNER_ONLY, List.of(), Map.of(), List.of()).allowed()).isFalse();
    // ...and its token, whose row went with it, is no longer one the service issued.
    AccessRequest gone = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(), Map.of(), List.of("token-of-g1"));
    assertThatThrownBy(() -> new PolicyAccessControl(Set.of("token-of-g2")::contains).check(gone))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN));
  }

  /**
   * One grant-token scheme: a token names a grant the service holds and adds no grant of its own
   * (a grant counts once CreateGrant commits, from the key's list); the listed grant's rules,
   * grantee and constraints decide, with or without a token.
   */
  @Test
  void aGrantTokenBringsNoGrantOfItsOwn() {
    // An issued token, its grant not in the list: nothing allows bob.
    AccessRequest unlisted = new AccessRequest(caller(BOB, null), "kms:Decrypt", KEY, OWNER_ONLY, List.of(), Map.of("a", "1"), List.of("token-of-g2"));
    assertThat(ac().decide(unlisted, Map.of(), null).basis()).isEqualTo(Basis.NO_KEY_POLICY_ALLOW);
    // Listed: the grant allows, the token is accepted with it.
    AccessRequest r = new AccessRequest(caller(BOB, null), "kms:Decrypt", KEY, OWNER_ONLY, List.of(BOB_EQ), Map.of("a", "1"), List.of("token-of-g2"));
    PolicyAccessControl.Decision d = ac().decide(r, Map.of(), null);
    assertThat(d.allowed()).isTrue();
    assertThat(d.basis()).isEqualTo(Basis.GRANT);
    assertThat(d.grantId()).isEqualTo("g2");
    // The grant's constraint still holds with the token.
    AccessRequest wrongContext = new AccessRequest(caller(BOB, null), "kms:Decrypt", KEY, OWNER_ONLY, List.of(BOB_EQ), Map.of("a", "2"), List.of("token-of-g2"));
    assertThat(ac().decide(wrongContext, Map.of(), null).allowed()).isFalse();
    // Another caller presenting bob's token gets nothing from it.
    AccessRequest alice = new AccessRequest(caller(ALICE, null), "kms:Decrypt", KEY, OWNER_ONLY, List.of(BOB_EQ), Map.of("a", "1"), List.of("token-of-g2"));
    assertThat(ac().decide(alice, Map.of(), null).allowed()).isFalse();
  }

  static Stream<Arguments> badTokens() {
    return Stream.of(
        Arguments.of("empty", ""),
        Arguments.of("too long", "token-of-g1" + "A".repeat(PolicyAccessControl.MAX_TOKEN_CHARS)),
        Arguments.of("never issued", "forged"),
        Arguments.of("another grant's token in other case", "TOKEN-OF-G1"),
        Arguments.of("an issued token with a character more", "token-of-g1x"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badTokens")
  void tokensTheServiceDidNotIssueAreInvalidGrantTokens(String name, String token) {
    // Even where the listed grant alone would allow, and next to a good token.
    AccessRequest r = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(BOB_ENC), Map.of(), List.of("token-of-g1", token));
    assertThatThrownBy(() -> ac().check(r))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN));
    // Also on an action not on a key.
    AccessRequest notOnAKey = new AccessRequest(caller(ROOT, null), "kms:ListKeys", null, null, List.of(), Map.of(), List.of(token));
    assertThatThrownBy(() -> ac().check(notOnAKey))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN));
  }

  @Test
  void moreThanTenTokensIsAValidationError() {
    List<String> eleven = Collections.nCopies(11, "token-of-g1");
    AccessRequest r = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(BOB_ENC), Map.of(), eleven);
    assertThatThrownBy(() -> ac().check(r)).isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION));
    List<String> ten = Collections.nCopies(10, "token-of-g1");
    AccessRequest ok = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(BOB_ENC), Map.of(), ten);
    assertThat(ac().decide(ok, Map.of(), null).allowed()).isTrue();
  }

  @Test
  void withoutIssuedGrantTokensEveryTokenIsInvalid() {
    AccessRequest r = new AccessRequest(caller(BOB, null), "kms:Encrypt", KEY, OWNER_ONLY, List.of(BOB_ENC), Map.of(), List.of("token-of-g1"));
    assertThatThrownBy(() -> new PolicyAccessControl().check(r))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN));
    // No token at all: the listed grant decides.
    assertThat(new PolicyAccessControl().decide(r.withGrantTokens(List.of()), Map.of(), null).allowed()).isTrue();
  }

  // ---------------------------------------------------------------- CreateGrant

  static AccessRequest createGrantRequest(Caller c, String policy, List<Grant> grants) {
    return new AccessRequest(c, "kms:CreateGrant", KEY, policy, grants, Map.of(), List.of());
  }

  static Grant proposed(Set<String> ops, Grant.Constraints c) {
    return new Grant(GrantRules.newGrantId(), KEY, "new", CAROL, null, ROOT, ops, c, NOW);
  }

  static final Grant PARENT = grant("p1", KEY, BOB, null, Set.of("Encrypt", "Decrypt", "CreateGrant"), subsetC(Map.of("a", "1")));

  /** name, proposed grant, allowed for bob through PARENT. */
  static Stream<Arguments> createThroughGrant() {
    return Stream.of(
        Arguments.of("fewer operations, same constraint", proposed(Set.of("Encrypt"), subsetC(Map.of("a", "1"))), true),
        Arguments.of("fewer operations, stricter Subset", proposed(Set.of("Decrypt"), subsetC(Map.of("a", "1", "b", "2"))), true),
        Arguments.of("Equals including the pairs", proposed(Set.of("Decrypt"), equalsC(Map.of("a", "1", "b", "2"))), true),
        Arguments.of("an operation the parent lacks", proposed(Set.of("Encrypt", "ReEncryptFrom"), subsetC(Map.of("a", "1"))), false),
        Arguments.of("no constraint (looser)", proposed(Set.of("Encrypt"), null), false),
        Arguments.of("another pair (looser)", proposed(Set.of("Encrypt"), subsetC(Map.of("b", "2"))), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("createThroughGrant")
  void aGrantWithCreateGrantPassesOnlyItsOwnRights(String name, Grant proposed, boolean allowed) {
    AccessRequest r = createGrantRequest(caller(BOB, null), OWNER_ONLY, List.of(PARENT));
    if (allowed) {
      GrantRules.authorizeCreateGrant(ac(), r, proposed, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    } else {
      assertThatThrownBy(() -> GrantRules.authorizeCreateGrant(ac(), r, proposed, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED));
    }
  }

  @Test
  void createGrantSeesGrantOperationsAsAConditionKey() {
    String policy = keyPolicy(allow(ROOT, "kms:*"), stmt("Allow", ALICE, "kms:CreateGrant",
        "{\"ForAllValues:StringEquals\":{\"kms:GrantOperations\":[\"Encrypt\",\"Decrypt\"]},\"Bool\":{\"kms:GrantIsForAWSResource\":\"false\"}}"));
    AccessRequest r = createGrantRequest(caller(ALICE, null), policy, List.of());
    GrantRules.authorizeCreateGrant(ac(), r, proposed(Set.of("Encrypt"), null), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    assertThatThrownBy(() -> GrantRules.authorizeCreateGrant(ac(), r, proposed(Set.of("Encrypt", "ReEncryptTo"), null), "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT")).isInstanceOf(KmsException.class).hasMessageContaining("kms:CreateGrant");
  }

  /** name, operations, key spec, key usage, constraints, grant name, expected error (null: valid). */
  static Stream<Arguments> validation() {
    return Stream.of(
        Arguments.of("symmetric, crypto ops", Set.of("Encrypt", "Decrypt", "GenerateDataKey", "ReEncryptFrom", "RetireGrant"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, "ok", null),
        Arguments.of("Sign on a symmetric key", Set.of("Sign"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, null, "not valid for a KMS key"),
        Arguments.of("unknown operation", Set.of("Frobnicate"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, null, "enum value set"),
        Arguments.of("IAM-style name", Set.of("kms:Encrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, null, "enum value set"),
        Arguments.of("no operations", Set.of(), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, null, "greater than or equal to 1"),
        Arguments.of("RSA signing key", Set.of("Sign", "Verify", "GetPublicKey", "DescribeKey"), "RSA_2048", "SIGN_VERIFY", null, null, null),
        Arguments.of("GenerateDataKey on RSA encryption key", Set.of("GenerateDataKey"), "RSA_2048", "ENCRYPT_DECRYPT", null, null, "not valid"),
        Arguments.of("HMAC key", Set.of("GenerateMac", "VerifyMac"), "HMAC_256", "GENERATE_VERIFY_MAC", null, null, null),
        Arguments.of("Encrypt on an HMAC key", Set.of("Encrypt"), "HMAC_256", "GENERATE_VERIFY_MAC", null, null, "not valid"),
        Arguments.of("constraint on RSA key", Set.of("Decrypt"), "RSA_2048", "ENCRYPT_DECRYPT", subsetC(Map.of("a", "1")), null, "not supported"),
        Arguments.of("both constraints", Set.of("Decrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", new Grant.Constraints(Map.of("a", "1"), Map.of("a", "1")), null, "not both"),
        Arguments.of("nine pairs", Set.of("Decrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", subsetC(nine()), null, "1 to 8"),
        Arguments.of("value too long", Set.of("Decrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", subsetC(Map.of("a", "x".repeat(385))), null, "longer than 384"),
        Arguments.of("bad grant name", Set.of("Decrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, "my grant!", "regular expression"),
        Arguments.of("name of 257 characters", Set.of("Decrypt"), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", null, "n".repeat(257), "regular expression"));
  }

  static Map<String, String> nine() {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < 9; i++) {
      m.put("k" + i, "v");
    }
    return m;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validation")
  void createGrantValidatesOperationsConstraintsAndName(String name, Set<String> ops, String spec, String usage, Grant.Constraints c, String grantName, String error) {
    Grant g = new Grant(GrantRules.newGrantId(), KEY, grantName, BOB, null, ROOT, new HashSet<>(ops), c, NOW);
    AccessRequest r = createGrantRequest(caller(ROOT, null), OWNER_ONLY, List.of());
    if (error == null) {
      GrantRules.authorizeCreateGrant(ac(), r, g, spec, usage);
    } else {
      assertThatThrownBy(() -> GrantRules.authorizeCreateGrant(ac(), r, g, spec, usage))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION))
          .hasMessageContaining(error);
    }
  }

  @Test
  void grantIdsAre64HexDigits() {
    assertThat(GrantRules.newGrantId()).matches("[0-9a-f]{64}").isNotEqualTo(GrantRules.newGrantId());
  }

  // ---------------------------------------------------------------- retire and revoke

  static final Grant RETIRABLE = grant("r1", KEY, BOB, ALICE, Set.of("Encrypt"), null);
  static final Grant SELF_RETIRE = grant("r2", KEY, BOB, null, Set.of("Encrypt", "RetireGrant"), null);

  static Stream<Arguments> retire() {
    return Stream.of(
        Arguments.of("the retiring principal", RETIRABLE, caller(ALICE, null), true),
        Arguments.of("the grantee without RetireGrant", RETIRABLE, caller(BOB, null), false),
        Arguments.of("the grantee with RetireGrant", SELF_RETIRE, caller(BOB, null), true),
        Arguments.of("the issuing account's root", RETIRABLE, caller(ROOT, null), true),
        Arguments.of("a user of the account with kms:RetireGrant", SELF_RETIRE, caller("arn:aws:iam::111122223333:user/dave", identity(idAllow("kms:RetireGrant", KEY))), true),
        Arguments.of("a user of the account without it", SELF_RETIRE, caller("arn:aws:iam::111122223333:user/dave", identity(idAllow("kms:Encrypt", "*"))), false),
        Arguments.of("another account's root", RETIRABLE, caller("arn:aws:iam::444455556666:root", null), false),
        Arguments.of("another account's user with kms:*", RETIRABLE, caller(CAROL, identity(idAllow("kms:*", "*"))), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("retire")
  void whoMayRetireAGrant(String name, Grant g, Caller c, boolean allowed) {
    assertThat(GrantRules.mayRetire(c, g)).isEqualTo(allowed);
    if (!allowed) {
      assertThatThrownBy(() -> GrantRules.authorizeRetire(c, g))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED))
          .hasMessageContaining("kms:RetireGrant");
    }
  }

  @Test
  void revokingNeedsKmsRevokeGrantFromThePolicyNotAGrant() {
    String policy = keyPolicy(allow(ROOT, "kms:*"), allow(ALICE, "kms:RevokeGrant"));
    PolicyAccessControl access = ac();
    GrantRules.authorizeRevoke(access, new AccessRequest(caller(ALICE, null), "kms:RevokeGrant", KEY, policy, List.of(), Map.of(), List.of()));
    GrantRules.authorizeRevoke(access, new AccessRequest(caller(ROOT, null), "kms:RevokeGrant", KEY, policy, List.of(), Map.of(), List.of()));
    // bob holds a grant with every operation a grant can carry: none of them is RevokeGrant
    Grant everything = grant("e1", KEY, BOB, null, Set.of("Encrypt", "Decrypt", "CreateGrant", "RetireGrant", "DescribeKey"), null);
    assertThatThrownBy(() -> GrantRules.authorizeRevoke(access,
        new AccessRequest(caller(BOB, null), "kms:RevokeGrant", KEY, policy, List.of(everything), Map.of(), List.of())))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED));
    assertThatThrownBy(() -> GrantRules.authorizeRevoke(access,
        new AccessRequest(caller(ALICE, null), "kms:Encrypt", KEY, policy, List.of(), Map.of(), List.of()))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void retirableGrantsAreThoseNamingTheRetiringPrincipal() {
    assertThat(GrantRules.retirableBy(ALICE, List.of(RETIRABLE, SELF_RETIRE, BOB_ENC))).containsExactly(RETIRABLE);
    assertThat(GrantRules.retirableBy(BOB, List.of(RETIRABLE))).isEmpty();
  }

  @Test
  void createGrantSeesTheConstraintAsTheEncryptionContext() {
    // AWS's pattern: allow CreateGrant only for grants constrained to a given context pair.
    String policy = keyPolicy(allow(ROOT, "kms:*"), stmt("Allow", ALICE, "kms:CreateGrant",
        "{\"StringEquals\":{\"kms:EncryptionContext:tenant\":\"t1\",\"kms:GrantConstraintType\":\"EncryptionContextSubset\"}}"));
    AccessRequest r = createGrantRequest(caller(ALICE, null), policy, List.of());
    GrantRules.authorizeCreateGrant(ac(), r, proposed(Set.of("Decrypt"), subsetC(Map.of("Tenant", "t1"))), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    for (Grant.Constraints c : List.of(subsetC(Map.of("tenant", "t2")), equalsC(Map.of("tenant", "t1")))) {
      assertThatThrownBy(() -> GrantRules.authorizeCreateGrant(ac(), r, proposed(Set.of("Decrypt"), c), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED));
    }
    assertThatThrownBy(() -> GrantRules.authorizeCreateGrant(ac(), r, proposed(Set.of("Decrypt"), null), "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"))
        .isInstanceOf(KmsException.class);
  }
}
