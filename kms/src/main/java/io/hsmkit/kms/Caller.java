package io.hsmkit.kms;

import java.util.Objects;

/**
 * Who makes a call, as the endpoint authenticated it (SigV4) or as an in-process caller names
 * itself: the principal's ARN ({@code arn:aws:iam::<account>:user/<name>} or
 * {@code arn:aws:iam::<account>:root}), its account, its identity (IAM-style) policy as JSON or
 * null for none, the access key id used (null in process), and the source IP and user agent for
 * the audit trail (null in process).
 *
 * <p>The identity policy plays IAM's part: a key policy statement that names the account root
 * ({@code arn:aws:iam::<account>:root}) delegates to it, as AWS's default key policy does.
 */
public record Caller(
    String principalArn,
    String accountId,
    String identityPolicyJson,
    String accessKeyId,
    String sourceIp,
    String userAgent) {
  public Caller {
    Objects.requireNonNull(principalArn, "principalArn");
    Objects.requireNonNull(accountId, "accountId");
  }

  /** An in-process caller with no wire details. */
  public static Caller of(String principalArn, String accountId, String identityPolicyJson) {
    return new Caller(principalArn, accountId, identityPolicyJson, null, null, null);
  }

  /** The same caller seen on the wire from {@code sourceIp} with {@code userAgent}. */
  public Caller withWire(String accessKeyId, String sourceIp, String userAgent) {
    return new Caller(principalArn, accountId, identityPolicyJson, accessKeyId, sourceIp, userAgent);
  }
}
