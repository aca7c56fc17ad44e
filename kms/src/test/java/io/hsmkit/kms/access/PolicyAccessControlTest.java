package io.hsmkit.kms.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.PolicyAccessControl.Basis;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Key policies, identity policies and their conditions, decided as AWS decides them: one case per row. */
class PolicyAccessControlTest {
  static final String ACCT = "111122223333";
  static final String OTHER = "444455556666";
  static final String KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  static final String KEY2 = "arn:aws:kms:us-east-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab";
  static final String ALICE = "arn:aws:iam::111122223333:user/alice";
  static final String BOB = "arn:aws:iam::111122223333:user/bob";
  static final String ROOT = "arn:aws:iam::111122223333:root";
  static final String CAROL = "arn:aws:iam::444455556666:user/carol";

  static final PolicyAccessControl AC = new PolicyAccessControl();

  static Caller caller(String arn, String identityPolicy) {
    return Caller.of(arn, arn.split(":")[4], identityPolicy);
  }

  static String keyPolicy(String... statements) {
    return "{\"Version\":\"2012-10-17\",\"Statement\":[" + String.join(",", statements) + "]}";
  }

  static String identity(String... statements) {
    return keyPolicy(statements);
  }

  static String allow(String principal, String action) {
    return stmt("Allow", principal, action, null);
  }

  static String deny(String principal, String action) {
    return stmt("Deny", principal, action, null);
  }

  static String stmt(String effect, String principal, String action, String condition) {
    String p = principal == null ? "" : principal.equals("*") ? "\"Principal\":\"*\"," : "\"Principal\":{\"AWS\":\"" + principal + "\"},";
    String a = action.startsWith("[") ? action : "\"" + action + "\"";
    return "{\"Effect\":\"" + effect + "\"," + p + "\"Action\":" + a + ",\"Resource\":\"*\"" + (condition == null ? "" : ",\"Condition\":" + condition) + "}";
  }

  static String idAllow(String action, String resource) {
    return "{\"Effect\":\"Allow\",\"Action\":\"" + action + "\",\"Resource\":\"" + resource + "\"}";
  }

  static String idDeny(String action) {
    return "{\"Effect\":\"Deny\",\"Action\":\"" + action + "\",\"Resource\":\"*\"}";
  }

  static final String DEFAULT = KeyPolicies.defaultPolicy(ACCT);
  static final String EC_DEPT = "{\"StringEquals\":{\"kms:EncryptionContext:dept\":\"finance\"}}";

  /** name, key policy, caller, identity policy, action, encryption context, expected basis. */
  static Stream<Arguments> cases() {
    return Stream.of(
        row("default policy, user without identity policy", DEFAULT, ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("default policy, identity allows kms:Encrypt on *", DEFAULT, ALICE, identity(idAllow("kms:Encrypt", "*")), "kms:Encrypt", Map.of(), Basis.IDENTITY_POLICY),
        row("default policy, identity allows on this key", DEFAULT, ALICE, identity(idAllow("kms:Encrypt", KEY)), "kms:Encrypt", Map.of(), Basis.IDENTITY_POLICY),
        row("default policy, identity allows on another key", DEFAULT, ALICE, identity(idAllow("kms:Encrypt", KEY2)), "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("default policy, identity allows a key pattern", DEFAULT, ALICE, identity(idAllow("kms:*", "arn:aws:kms:*:111122223333:key/*")), "kms:Decrypt", Map.of(), Basis.IDENTITY_POLICY),
        row("default policy, identity allows another action", DEFAULT, ALICE, identity(idAllow("kms:Decrypt", "*")), "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("default policy, the account root (named itself)", DEFAULT, ROOT, null, "kms:ScheduleKeyDeletion", Map.of(), Basis.KEY_POLICY),
        row("default policy, bare account id", keyPolicy(allow(ACCT, "kms:*")), ALICE, identity(idAllow("kms:*", "*")), "kms:Encrypt", Map.of(), Basis.IDENTITY_POLICY),
        row("policy names the caller", keyPolicy(allow(ALICE, "kms:Encrypt")), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("policy names the caller, another action", keyPolicy(allow(ALICE, "kms:Encrypt")), ALICE, null, "kms:Decrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("policy names another user", keyPolicy(allow(BOB, "kms:*")), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("principal without rights: no statement at all", keyPolicy(allow(BOB, "kms:DescribeKey")), ALICE, identity(idAllow("kms:*", "*")), "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("Deny beats Allow (same statement set)", keyPolicy(allow(ALICE, "kms:*"), deny(ALICE, "kms:Decrypt")), ALICE, null, "kms:Decrypt", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("Deny of another action leaves the Allow", keyPolicy(allow(ALICE, "kms:*"), deny(ALICE, "kms:Decrypt")), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("Deny to everyone beats Allow to the caller", keyPolicy(allow(ALICE, "kms:*"), deny("*", "kms:Encrypt")), ALICE, null, "kms:Encrypt", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("Deny to the account root covers its users", keyPolicy(allow(ALICE, "kms:*"), deny(ROOT, "kms:Encrypt")), ALICE, null, "kms:Encrypt", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("Deny beats the root itself", keyPolicy(allow(ROOT, "kms:*"), deny("*", "kms:Sign")), ROOT, null, "kms:Sign", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("identity Deny beats key-policy Allow", keyPolicy(allow(ALICE, "kms:*")), ALICE, identity(idDeny("kms:Encrypt")), "kms:Encrypt", Map.of(), Basis.EXPLICIT_DENY_IDENTITY_POLICY),
        row("kms:Get* covers GetPublicKey", keyPolicy(allow(ALICE, "kms:Get*")), ALICE, null, "kms:GetPublicKey", Map.of(), Basis.KEY_POLICY),
        row("kms:Get* does not cover Encrypt", keyPolicy(allow(ALICE, "kms:Get*")), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("kms:ReEncrypt* covers ReEncryptFrom", keyPolicy(allow(ALICE, "[\"kms:ReEncrypt*\",\"kms:Describe*\"]")), ALICE, null, "kms:ReEncryptFrom", Map.of(), Basis.KEY_POLICY),
        row("NotAction allows the rest", keyPolicy(notAction(ALICE, "kms:ScheduleKeyDeletion")), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("NotAction excludes its action", keyPolicy(notAction(ALICE, "kms:ScheduleKeyDeletion")), ALICE, null, "kms:ScheduleKeyDeletion", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("Principal * allows everyone of the account", keyPolicy(allow("*", "kms:Encrypt")), BOB, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("assumed-role session matches its role", keyPolicy(allow("arn:aws:iam::111122223333:role/app/worker", "kms:Encrypt")),
            "arn:aws:sts::111122223333:assumed-role/worker/session-1", null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("another role's session does not match", keyPolicy(allow("arn:aws:iam::111122223333:role/worker", "kms:Encrypt")),
            "arn:aws:sts::111122223333:assumed-role/other/session-1", null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        // Encryption-context conditions
        row("EC condition met", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", EC_DEPT)), ALICE, null, "kms:Encrypt", Map.of("dept", "finance"), Basis.KEY_POLICY),
        row("EC condition: key name in other case", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", EC_DEPT)), ALICE, null, "kms:Encrypt", Map.of("Dept", "finance"), Basis.KEY_POLICY),
        row("EC condition: value in other case", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", EC_DEPT)), ALICE, null, "kms:Encrypt", Map.of("dept", "Finance"), Basis.NO_KEY_POLICY_ALLOW),
        row("EC condition: wrong value", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", EC_DEPT)), ALICE, null, "kms:Encrypt", Map.of("dept", "hr"), Basis.NO_KEY_POLICY_ALLOW),
        row("EC condition: pair missing", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", EC_DEPT)), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("EC condition: list of values", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringEquals\":{\"kms:EncryptionContext:dept\":[\"hr\",\"finance\"]}}")),
            ALICE, null, "kms:Encrypt", Map.of("dept", "finance"), Basis.KEY_POLICY),
        row("StringEqualsIgnoreCase", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringEqualsIgnoreCase\":{\"kms:EncryptionContext:dept\":\"FINANCE\"}}")),
            ALICE, null, "kms:Encrypt", Map.of("dept", "finance"), Basis.KEY_POLICY),
        row("StringLike matches", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringLike\":{\"kms:EncryptionContext:path\":\"/data/*\"}}")),
            ALICE, null, "kms:Encrypt", Map.of("path", "/data/x/y"), Basis.KEY_POLICY),
        row("StringLike does not match", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringLike\":{\"kms:EncryptionContext:path\":\"/data/*\"}}")),
            ALICE, null, "kms:Encrypt", Map.of("path", "/etc/x"), Basis.NO_KEY_POLICY_ALLOW),
        row("Deny StringNotEquals: absent key denies", keyPolicy(allow(ALICE, "kms:*"),
            stmt("Deny", "*", "kms:Decrypt", "{\"StringNotEquals\":{\"kms:EncryptionContext:dept\":\"finance\"}}")), ALICE, null, "kms:Decrypt", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("Deny StringNotEquals: other value denies", keyPolicy(allow(ALICE, "kms:*"),
            stmt("Deny", "*", "kms:Decrypt", "{\"StringNotEquals\":{\"kms:EncryptionContext:dept\":\"finance\"}}")), ALICE, null, "kms:Decrypt", Map.of("dept", "hr"), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("Deny StringNotEquals: the value passes", keyPolicy(allow(ALICE, "kms:*"),
            stmt("Deny", "*", "kms:Decrypt", "{\"StringNotEquals\":{\"kms:EncryptionContext:dept\":\"finance\"}}")), ALICE, null, "kms:Decrypt", Map.of("dept", "finance"), Basis.KEY_POLICY),
        row("StringEqualsIfExists: absent passes", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringEqualsIfExists\":{\"kms:EncryptionContext:dept\":\"finance\"}}")),
            ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("StringEqualsIfExists: wrong value fails", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringEqualsIfExists\":{\"kms:EncryptionContext:dept\":\"finance\"}}")),
            ALICE, null, "kms:Encrypt", Map.of("dept", "hr"), Basis.NO_KEY_POLICY_ALLOW),
        row("ForAllValues keys: subset passes", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ALL)), ALICE, null, "kms:Encrypt", Map.of("a", "1"), Basis.KEY_POLICY),
        row("ForAllValues keys: an extra key fails", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ALL)), ALICE, null, "kms:Encrypt", Map.of("a", "1", "c", "3"), Basis.NO_KEY_POLICY_ALLOW),
        row("ForAllValues keys: no context passes", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ALL)), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("ForAnyValue keys: one matches", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ANY)), ALICE, null, "kms:Encrypt", Map.of("a", "1", "c", "3"), Basis.KEY_POLICY),
        row("ForAnyValue keys: none matches", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ANY)), ALICE, null, "kms:Encrypt", Map.of("c", "3"), Basis.NO_KEY_POLICY_ALLOW),
        row("ForAnyValue keys: no context fails", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ANY)), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("EncryptionContextKeys are case-sensitive", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", FOR_ANY)), ALICE, null, "kms:Encrypt", Map.of("A", "1"), Basis.NO_KEY_POLICY_ALLOW),
        row("Null false: context required", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", NULL_FALSE)), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("Null false: context present", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", NULL_FALSE)), ALICE, null, "kms:Encrypt", Map.of("x", "y"), Basis.KEY_POLICY),
        row("Null true: context forbidden", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"Null\":{\"kms:EncryptionContextKeys\":\"true\"}}")), ALICE, null, "kms:Encrypt", Map.of("x", "y"), Basis.NO_KEY_POLICY_ALLOW),
        row("two operators are ANDed", keyPolicy(stmt("Allow", ALICE, "kms:Encrypt", "{\"StringEquals\":{\"kms:EncryptionContext:dept\":\"finance\"},\"StringLike\":{\"kms:EncryptionContext:path\":\"/f/*\"}}")),
            ALICE, null, "kms:Encrypt", Map.of("dept", "finance", "path", "/g/1"), Basis.NO_KEY_POLICY_ALLOW),
        row("kms:CallerAccount matches", keyPolicy(stmt("Allow", "*", "kms:Encrypt", "{\"StringEquals\":{\"kms:CallerAccount\":\"111122223333\"}}")), BOB, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("kms:CallerAccount of another account", keyPolicy(stmt("Allow", "*", "kms:Encrypt", "{\"StringEquals\":{\"kms:CallerAccount\":\"111122223333\"}}")),
            CAROL, identity(idAllow("kms:*", "*")), "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("aws:PrincipalArn ArnLike matches", keyPolicy(stmt("Allow", "*", "kms:Encrypt", "{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::111122223333:user/a*\"}}")), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("aws:PrincipalArn ArnLike other user", keyPolicy(stmt("Allow", "*", "kms:Encrypt", "{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::111122223333:user/a*\"}}")), BOB, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("GrantIsForAWSResource false on CreateGrant", keyPolicy(stmt("Allow", ALICE, "kms:CreateGrant", "{\"Bool\":{\"kms:GrantIsForAWSResource\":\"false\"}}")), ALICE, null, "kms:CreateGrant", Map.of(), Basis.KEY_POLICY),
        row("GrantIsForAWSResource true never here", keyPolicy(stmt("Allow", ALICE, "kms:CreateGrant", "{\"Bool\":{\"kms:GrantIsForAWSResource\":true}}")), ALICE, null, "kms:CreateGrant", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        // Accounts
        row("cross-account via root and identity", keyPolicy(allow("arn:aws:iam::444455556666:root", "kms:Encrypt")), CAROL, identity(idAllow("kms:Encrypt", KEY)), "kms:Encrypt", Map.of(), Basis.IDENTITY_POLICY),
        row("cross-account via root, no identity policy", keyPolicy(allow("arn:aws:iam::444455556666:root", "kms:Encrypt")), CAROL, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("cross-account named user still needs identity", keyPolicy(allow(CAROL, "kms:Encrypt")), CAROL, null, "kms:Encrypt", Map.of(), Basis.NO_IDENTITY_POLICY_ALLOW),
        row("cross-account named user with identity", keyPolicy(allow(CAROL, "kms:Encrypt")), CAROL, identity(idAllow("kms:Encrypt", "*")), "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("another account's root is not this account's", DEFAULT, "arn:aws:iam::444455556666:root", null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("no key policy at all", null, ROOT, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        // NotPrincipal, other principal types, Resource
        row("Deny NotPrincipal spares the named user", keyPolicy(allow("*", "kms:Encrypt"), NOT_ALICE_DENY), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("Deny NotPrincipal hits everyone else", keyPolicy(allow("*", "kms:Encrypt"), NOT_ALICE_DENY), BOB, null, "kms:Encrypt", Map.of(), Basis.EXPLICIT_DENY_KEY_POLICY),
        row("a Service principal matches no caller", keyPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"),
            ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW),
        row("Resource names this key", keyPolicy(withResource(allow(ALICE, "kms:Encrypt"), KEY)), ALICE, null, "kms:Encrypt", Map.of(), Basis.KEY_POLICY),
        row("Resource names another key", keyPolicy(withResource(allow(ALICE, "kms:Encrypt"), KEY2)), ALICE, null, "kms:Encrypt", Map.of(), Basis.NO_KEY_POLICY_ALLOW));
  }

  static final String NOT_ALICE_DENY = "{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" + ALICE + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}";

  static String withResource(String statement, String resource) {
    return statement.replace("\"Resource\":\"*\"", "\"Resource\":\"" + resource + "\"");
  }

  static final String FOR_ALL = "{\"ForAllValues:StringEquals\":{\"kms:EncryptionContextKeys\":[\"a\",\"b\"]}}";
  static final String FOR_ANY = "{\"ForAnyValue:StringEquals\":{\"kms:EncryptionContextKeys\":[\"a\",\"b\"]}}";
  static final String NULL_FALSE = "{\"Null\":{\"kms:EncryptionContextKeys\":\"false\"}}";

  static String notAction(String principal, String action) {
    return "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + principal + "\"},\"NotAction\":\"" + action + "\",\"Resource\":\"*\"}";
  }

  static Arguments row(String name, String keyPolicy, String caller, String identity, String action, Map<String, String> ec, Basis expected) {
    return Arguments.of(name, keyPolicy, caller, identity, action, ec, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, String keyPolicy, String callerArn, String identity, String action, Map<String, String> ec, Basis expected) {
    AccessRequest r = new AccessRequest(caller(callerArn, identity), action, KEY, keyPolicy, List.of(), ec, List.of());
    PolicyAccessControl.Decision d = AC.decide(r, Map.of(), null);
    assertThat(d.basis()).isEqualTo(expected);
    if (d.allowed()) {
      AC.check(r);
    } else {
      assertThatThrownBy(() -> AC.check(r))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED))
          .hasMessageStartingWith("User: " + callerArn + " is not authorized to perform: " + action + " on resource: " + KEY);
    }
  }

  @Test
  void theDenyMessageIsAwsWording() {
    AccessRequest r = new AccessRequest(caller(ALICE, null), "kms:Encrypt", KEY, DEFAULT, List.of(), Map.of(), List.of());
    assertThatThrownBy(() -> AC.check(r)).hasMessage("User: " + ALICE + " is not authorized to perform: kms:Encrypt on resource: " + KEY
        + " because no resource-based policy allows the kms:Encrypt action");
    AccessRequest denied = new AccessRequest(caller(ALICE, null), "kms:Encrypt", KEY, keyPolicy(deny("*", "kms:*")), List.of(), Map.of(), List.of());
    assertThatThrownBy(() -> AC.check(denied)).hasMessageEndingWith("with an explicit deny in a resource-based policy");
  }

  static Stream<Arguments> notOnAKey() {
    return Stream.of(
        Arguments.of("user without identity policy", ALICE, null, "kms:CreateKey", Basis.NO_IDENTITY_POLICY_ALLOW),
        Arguments.of("identity allows CreateKey", ALICE, identity(idAllow("kms:CreateKey", "*")), "kms:CreateKey", Basis.IDENTITY_POLICY),
        Arguments.of("identity allows kms:List*", ALICE, identity(idAllow("kms:List*", "*")), "kms:ListAliases", Basis.IDENTITY_POLICY),
        Arguments.of("identity allows another action", ALICE, identity(idAllow("kms:ListKeys", "*")), "kms:GenerateRandom", Basis.NO_IDENTITY_POLICY_ALLOW),
        Arguments.of("identity Deny beats Allow", ALICE, identity(idAllow("kms:*", "*"), idDeny("kms:CreateCustomKeyStore")), "kms:CreateCustomKeyStore",
            Basis.EXPLICIT_DENY_IDENTITY_POLICY),
        Arguments.of("the account root", ROOT, null, "kms:ListKeys", Basis.ACCOUNT_ROOT),
        Arguments.of("identity policy for another service", ALICE, identity(idAllow("s3:*", "*")), "kms:CreateKey", Basis.NO_IDENTITY_POLICY_ALLOW));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notOnAKey")
  void actionsNotOnAKeyAreDecidedByTheIdentityPolicy(String name, String callerArn, String identity, String action, Basis expected) {
    AccessRequest r = new AccessRequest(caller(callerArn, identity), action, null, null, List.of(), Map.of(), List.of());
    PolicyAccessControl.Decision d = AC.decide(r, Map.of(), null);
    assertThat(d.basis()).isEqualTo(expected);
    if (!d.allowed()) {
      assertThatThrownBy(() -> AC.check(r)).isInstanceOf(KmsException.class).hasMessageStartingWith("User: " + callerArn + " is not authorized to perform: " + action);
    }
  }

  @Test
  void aStoredPolicyThatDoesNotParseIsAnInternalError() {
    AccessRequest r = new AccessRequest(caller(ALICE, null), "kms:Encrypt", KEY, "{not json", List.of(), Map.of(), List.of());
    assertThatThrownBy(() -> AC.check(r)).isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.KMS_INTERNAL));
  }

  static Stream<Arguments> lockout() {
    return Stream.of(
        Arguments.of("default policy, root", KeyPolicies.defaultPolicy(ACCT), ROOT, null, true),
        Arguments.of("default policy, user with identity kms:*", KeyPolicies.defaultPolicy(ACCT), ALICE, identity(idAllow("kms:*", "*")), true),
        Arguments.of("default policy, user without identity", KeyPolicies.defaultPolicy(ACCT), ALICE, null, false),
        Arguments.of("policy only for bob", keyPolicy(allow(BOB, "kms:*")), ALICE, null, false),
        Arguments.of("policy gives alice PutKeyPolicy", keyPolicy(allow(ALICE, "kms:PutKeyPolicy")), ALICE, null, true),
        Arguments.of("policy denies alice PutKeyPolicy", keyPolicy(allow(ALICE, "kms:*"), deny(ALICE, "kms:Put*")), ALICE, null, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("lockout")
  void theLockoutSafetyCheck(String name, String policy, String callerArn, String identity, boolean accepted) {
    Caller c = caller(callerArn, identity);
    if (accepted) {
      assertThat(KeyPolicies.validateForPut(policy, c, KEY, false)).isNotNull();
    } else {
      assertThatThrownBy(() -> KeyPolicies.validateForPut(policy, c, KEY, false))
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.MALFORMED_POLICY_DOCUMENT))
          .hasMessageContaining("will not allow you to update the key policy in the future");
      assertThat(KeyPolicies.validateForPut(policy, c, KEY, true)).isNotNull(); // BypassPolicyLockoutSafetyCheck
    }
  }

  static final String ALIAS = "arn:aws:kms:us-east-1:111122223333:alias/app";

  static Stream<Arguments> aliases() {
    return Stream.of(
        Arguments.of("identity allows the alias", ALICE, identity(idAllow("kms:CreateAlias", ALIAS)), true),
        Arguments.of("identity allows alias/*", ALICE, identity(idAllow("kms:CreateAlias", "arn:aws:kms:*:111122223333:alias/*")), true),
        Arguments.of("identity allows another alias", ALICE, identity(idAllow("kms:CreateAlias", "arn:aws:kms:us-east-1:111122223333:alias/other")), false),
        Arguments.of("no identity policy", ALICE, null, false),
        Arguments.of("identity Deny", ALICE, identity(idAllow("kms:*", "*"), idDeny("kms:CreateAlias")), false),
        Arguments.of("the account root", ROOT, null, true),
        Arguments.of("another account's root", "arn:aws:iam::444455556666:root", null, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("aliases")
  void aliasResourcesAreDecidedByTheIdentityPolicy(String name, String callerArn, String identity, boolean allowed) {
    PolicyAccessControl.Decision d = AC.decideIdentityOnly(caller(callerArn, identity), "kms:CreateAlias", ALIAS);
    assertThat(d.allowed()).isEqualTo(allowed);
    if (!allowed) {
      assertThatThrownBy(() -> AC.checkIdentityOnly(caller(callerArn, identity), "kms:CreateAlias", ALIAS))
          .isInstanceOf(KmsException.class).hasMessageStartingWith("User: " + callerArn + " is not authorized to perform: kms:CreateAlias on resource: " + ALIAS);
    }
  }

  @Test
  void operationsMapToActionsAsAwsLists() {
    assertThat(KmsActions.actionsOf("Encrypt")).containsExactly("kms:Encrypt");
    assertThat(KmsActions.actionsOf("ReEncrypt")).containsExactly("kms:ReEncryptFrom", "kms:ReEncryptTo");
    assertThat(KmsActions.isOnAKey("CreateKey")).isFalse();
    assertThat(KmsActions.isOnAKey("GenerateRandom")).isFalse();
    assertThat(KmsActions.isOnAKey("ConnectCustomKeyStore")).isFalse();
    assertThat(KmsActions.isOnAKey("ScheduleKeyDeletion")).isTrue();
    assertThat(KmsActions.ON_AN_ALIAS).contains("UpdateAlias");
  }
}
