package io.hsmkit.kms.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The policy grammar: what parses, and every way a document is malformed, with the message it gets. */
class KeyPolicyTest {
  static final String ALLOW_ALICE = """
      {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}""";

  static String doc(String statements) {
    return "{\"Version\":\"2012-10-17\",\"Statement\":" + statements + "}";
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("not JSON", "{\"Version\":", "not valid JSON"),
        Arguments.of("empty", "  ", "empty"),
        Arguments.of("an array", "[]", "must be a JSON object"),
        Arguments.of("no Statement", "{\"Version\":\"2012-10-17\"}", "has no Statement"),
        Arguments.of("empty Statement list", doc("[]"), "empty Statement list"),
        Arguments.of("Statement a string", doc("\"Allow\""), "object or an array"),
        Arguments.of("unknown Effect", doc(ALLOW_ALICE.replace("\"Allow\"", "\"Permit\"")), "unknown Effect \"Permit\""),
        Arguments.of("Effect in lower case", doc(ALLOW_ALICE.replace("\"Allow\"", "\"allow\"")), "unknown Effect"),
        Arguments.of("no Effect", doc("{\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}"), "has no Effect"),
        Arguments.of("no Principal", doc("{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}"), "exactly one of Principal and NotPrincipal"),
        Arguments.of("Principal and NotPrincipal",
            doc("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotPrincipal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}"), "exactly one of Principal"),
        Arguments.of("no Action", doc("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":\"*\"}"), "exactly one of Action and NotAction"),
        Arguments.of("Action and NotAction",
            doc("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"NotAction\":\"kms:Sign\",\"Resource\":\"*\"}"), "exactly one of Action"),
        Arguments.of("non-kms action", doc(ALLOW_ALICE.replace("kms:Encrypt", "s3:GetObject")), "invalid action \"s3:GetObject\""),
        Arguments.of("action without service", doc(ALLOW_ALICE.replace("kms:Encrypt", "Encrypt")), "invalid action"),
        Arguments.of("empty Action list", doc(ALLOW_ALICE.replace("\"kms:Encrypt\"", "[]")), "non-empty list"),
        Arguments.of("Action a number", doc(ALLOW_ALICE.replace("\"kms:Encrypt\"", "[1]")), "must be a string"),
        Arguments.of("no Resource", doc("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}"), "exactly one of Resource"),
        Arguments.of("bad Resource", doc(ALLOW_ALICE.replace("\"Resource\":\"*\"", "\"Resource\":\"key/1\"")), "invalid resource"),
        Arguments.of("invalid principal", doc(ALLOW_ALICE.replace("arn:aws:iam::111122223333:user/alice", "alice")), "invalid principals: \"alice\""),
        Arguments.of("short account id", doc(ALLOW_ALICE.replace("arn:aws:iam::111122223333:user/alice", "11112222333")), "invalid principals"),
        Arguments.of("Principal string not *", doc(ALLOW_ALICE.replace("{\"AWS\":\"arn:aws:iam::111122223333:user/alice\"}", "\"alice\"")), "invalid Principal"),
        Arguments.of("unknown principal type", doc(ALLOW_ALICE.replace("\"AWS\"", "\"Robot\"")), "unknown principal type \"Robot\""),
        Arguments.of("unknown top element", "{\"Version\":\"2012-10-17\",\"Statement\":[" + ALLOW_ALICE + "],\"Extra\":1}", "unknown element \"Extra\""),
        Arguments.of("unknown statement element", doc(ALLOW_ALICE.replace("\"Resource\"", "\"Colour\":\"red\",\"Resource\"")), "unknown element \"Colour\""),
        Arguments.of("unsupported Version", "{\"Version\":\"2019-01-01\",\"Statement\":[" + ALLOW_ALICE + "]}", "unsupported Version"),
        Arguments.of("duplicate element", "{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\",\"Statement\":[" + ALLOW_ALICE + "]}", "not valid JSON"),
        Arguments.of("unsupported operator", doc(cond("{\"NumericLessThan\":{\"kms:RecipientAttestation:x\":\"1\"}}")), "unsupported condition operator \"NumericLessThan\""),
        Arguments.of("operator typo", doc(cond("{\"StringEqual\":{\"kms:CallerAccount\":\"111122223333\"}}")), "unsupported condition operator"),
        Arguments.of("NullIfExists", doc(cond("{\"NullIfExists\":{\"kms:CallerAccount\":\"true\"}}")), "unsupported condition operator"),
        Arguments.of("Bool not boolean", doc(cond("{\"Bool\":{\"kms:GrantIsForAWSResource\":\"yes\"}}")), "true or false"),
        Arguments.of("condition key without prefix", doc(cond("{\"StringEquals\":{\"department\":\"x\"}}")), "invalid condition key"),
        Arguments.of("condition without keys", doc(cond("{\"StringEquals\":{}}")), "must map condition keys"),
        Arguments.of("condition value null", doc(cond("{\"StringEquals\":{\"kms:CallerAccount\":null}}")), "needs a value"),
        Arguments.of("Condition a list", doc(cond("[]")), "Condition must be an object"));
  }

  static String cond(String condition) {
    return "{\"Sid\":\"S1\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\",\"Condition\":" + condition + "}";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedPoliciesAreRefusedWithAHelpfulMessage(String name, String json, String message) {
    assertThatThrownBy(() -> KeyPolicy.parse(json))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.MALFORMED_POLICY_DOCUMENT))
        .hasMessageContaining(message);
  }

  @Test
  void aPolicyOver32KiBIsRefused() {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; sb.length() < KeyPolicy.MAX_BYTES; i++) {
      sb.append(i == 0 ? "" : ",").append(ALLOW_ALICE.replace("{\"Effect\"", "{\"Sid\":\"S" + i + "\",\"Effect\""));
    }
    String big = doc(sb.append("]").toString());
    assertThatThrownBy(() -> KeyPolicy.parse(big)).isInstanceOf(KmsException.class).hasMessageContaining("limit is 32768 bytes");
  }

  @Test
  void aPolicyOfExactly32KiBParses() {
    String base = doc("[" + ALLOW_ALICE.replace("{\"Effect\"", "{\"Sid\":\"\",\"Effect\"") + "]");
    String padded = base.replace("\"Sid\":\"\"", "\"Sid\":\"" + "x".repeat(KeyPolicy.MAX_BYTES - base.length()) + "\"");
    assertThat(padded.length()).isEqualTo(KeyPolicy.MAX_BYTES);
    assertThat(KeyPolicy.parse(padded).statements()).hasSize(1);
  }

  @Test
  void statementMayBeAnObjectOrAnArray() {
    assertThat(KeyPolicy.parse(doc(ALLOW_ALICE)).statements()).hasSize(1);
    assertThat(KeyPolicy.parse(doc("[" + ALLOW_ALICE + "," + ALLOW_ALICE + "]")).statements()).hasSize(2);
  }

  @Test
  void principalsAreNormalized() {
    KeyPolicy p = KeyPolicy.parse(doc("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"111122223333\",\"arn:aws:iam::444455556666:role/ops/admin\"],"
        + "\"Service\":\"ec2.amazonaws.com\"},\"Action\":[\"kms:Get*\",\"kms:Describe?ey\"],\"Resource\":\"*\"}"));
    KeyPolicy.Statement s = p.statements().get(0);
    assertThat(s.principal().aws()).containsExactly("arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/ops/admin");
    assertThat(s.principal().others()).containsExactly("ec2.amazonaws.com");
    assertThat(s.coversAction("kms:GetPublicKey")).isTrue();
    assertThat(s.coversAction("KMS:getkeypolicy")).isTrue(); // action names compare case-insensitively
    assertThat(s.coversAction("kms:DescribeKey")).isTrue();
    assertThat(s.coversAction("kms:Encrypt")).isFalse();
  }

  @Test
  void theDefaultPolicyParsesAndNamesTheRoot() {
    KeyPolicy p = KeyPolicy.parse(KeyPolicies.defaultPolicy("111122223333"));
    assertThat(p.version()).isEqualTo("2012-10-17");
    assertThat(p.statements().get(0).principal().aws()).containsExactly("arn:aws:iam::111122223333:root");
    assertThat(p.statements().get(0).actions()).containsExactly("kms:*");
    assertThatThrownBy(() -> KeyPolicies.defaultPolicy("12")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void identityPoliciesNameNoPrincipalAndMayNameOtherServices() {
    KeyPolicy p = KeyPolicy.parseIdentityPolicy("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"kms:Encrypt\",\"s3:*\"],\"Resource\":\"*\"}}");
    assertThat(p.isIdentityPolicy()).isTrue();
    assertThatThrownBy(() -> KeyPolicy.parseIdentityPolicy(doc(ALLOW_ALICE)))
        .isInstanceOf(KmsException.class).hasMessageContaining("must not name a Principal");
  }

  @Test
  void wildcardsMatchAsIamDoes() {
    Object[][] cases = {
        {"*", "", true}, {"*", "anything", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
        {"a?c", "abc", true}, {"a?c", "ac", false}, {"*b*", "abc", true}, {"a**", "a", true}, {"abc", "abcd", false},
        {"arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:111122223333:key/1", true},
        {"arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:444455556666:key/1", false}};
    for (Object[] c : cases) {
      assertThat(Wildcards.matches((String) c[0], (String) c[1], false)).as("%s ~ %s", c[0], c[1]).isEqualTo(c[2]);
    }
  }
}
