package io.hsmkit.kms;

import java.util.Objects;

/**
 * Who makes a call, as the endpoint authenticated it (SigV4) or as an in-process caller names
 * itself: the principal's ARN ({@code arn:aws:iam::<account>:user/<name>} or
 * {@code arn:aws:iam::<account>:root}), its account, the access key id used (null in process),
 * and the source IP and user agent for the audit trail (null in process).
 */
public record Caller(String principalArn, String accountId, String accessKeyId, String sourceIp, String userAgent) {
  public Caller {
    Objects.requireNonNull(principalArn, "principalArn");
    Objects.requireNonNull(accountId, "accountId");
  }

  /** An in-process caller with no wire details. */
  public static Caller of(String principalArn, String accountId) {
    return new Caller(principalArn, accountId, null, null, null);
  }
}
