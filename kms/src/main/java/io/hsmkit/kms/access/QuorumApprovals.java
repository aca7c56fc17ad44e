package io.hsmkit.kms.access;

import io.hsmkit.quorum.Action;

/** What a quorum refusal of the KMS tells the operator to run. */
public final class QuorumApprovals {
  private QuorumApprovals() {}

  /**
   * The {@code hsmkit quorum token create} command that requests an approval token for exactly
   * {@code action} (service, operation and every argument), so a refusal can name it and the
   * operator need not guess the arguments. Arguments are never secrets (a secret is named by its
   * SHA-256), so the command may be shown.
   */
  public static String tokenCommand(Action action) {
    StringBuilder sb = new StringBuilder("hsmkit quorum token create --service ").append(action.service().wireName())
        .append(" --operation ").append(action.operation());
    action.arguments().forEach((k, v) -> sb.append(" --arg ").append(k).append('=').append(v));
    return sb.append(" --requester <you> --out <token file>").toString();
  }
}
