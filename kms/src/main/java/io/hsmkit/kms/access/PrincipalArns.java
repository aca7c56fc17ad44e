package io.hsmkit.kms.access;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IAM principal ARNs as key policies, grants and callers use them: an account root
 * ({@code arn:aws:iam::111122223333:root}, or the bare account id), users, roles, assumed-role
 * sessions and federated users.
 */
final class PrincipalArns {
  private PrincipalArns() {}

  static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
  private static final Pattern ROOT = Pattern.compile("arn:(aws|aws-cn|aws-us-gov):iam::(\\d{12}):root");
  private static final Pattern VALID = Pattern.compile(
      "arn:(aws|aws-cn|aws-us-gov):(iam::\\d{12}:(root|user/[\\w+=,.@/-]+|role/[\\w+=,.@/-]+)|sts::\\d{12}:(assumed-role/[\\w+=,.@/-]+/[\\w+=,.@-]+|federated-user/[\\w+=,.@-]+))");
  private static final Pattern ASSUMED = Pattern.compile("arn:([a-z-]+):sts::(\\d{12}):assumed-role/([^/]+)/[^/]+");
  private static final Pattern ROLE = Pattern.compile("arn:([a-z-]+):iam::(\\d{12}):role/(?:.*/)?([^/]+)");

  /** Whether {@code s} names a principal: a principal ARN or a 12-digit account id. */
  static boolean isValid(String s) {
    return ACCOUNT.matcher(s).matches() || VALID.matcher(s).matches();
  }

  /** The ARN form: a bare account id becomes the account's root ARN. */
  static String normalize(String s) {
    return ACCOUNT.matcher(s).matches() ? rootOf(s) : s;
  }

  static String rootOf(String accountId) {
    return "arn:aws:iam::" + accountId + ":root";
  }

  /** The account of a root ARN, or null when {@code arn} is not an account root. */
  static String rootAccount(String arn) {
    Matcher m = ROOT.matcher(arn);
    return m.matches() ? m.group(2) : null;
  }

  /**
   * Whether the principal named {@code spec} (normalized) is the caller {@code callerArn} itself:
   * the same ARN, or the role whose session the caller is (an assumed-role ARN drops the role's path).
   */
  static boolean sameIdentity(String spec, String callerArn) {
    if (spec.equals(callerArn)) {
      return true;
    }
    Matcher a = ASSUMED.matcher(callerArn);
    Matcher r = ROLE.matcher(spec);
    return a.matches() && r.matches() && a.group(1).equals(r.group(1)) && a.group(2).equals(r.group(2)) && a.group(3).equals(r.group(3));
  }
}
