package io.hsmkit.kms.access;

import java.util.List;
import java.util.Set;

/**
 * Which IAM action, on which resource, each KMS API operation is authorized as (AWS's "KMS
 * permissions" table), so the service asks {@link AccessControl} the same questions AWS asks.
 */
public final class KmsActions {
  private KmsActions() {}

  /**
   * Operations on no key (resource {@code *}): decided by the identity policy alone
   * ({@link AccessRequest#keyArn()} null). ListRetirableGrants is among them: AWS authorizes it
   * by IAM policy only.
   */
  public static final Set<String> NOT_ON_A_KEY = Set.of("CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants",
      "CreateCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "DeleteCustomKeyStore", "ConnectCustomKeyStore",
      "DisconnectCustomKeyStore");

  /** Alias operations: besides the key's permission, the alias resource needs an identity-policy allow. */
  public static final Set<String> ON_AN_ALIAS = Set.of("CreateAlias", "UpdateAlias", "DeleteAlias");

  /**
   * The IAM action(s) of an operation, in the order the service checks them: one for every
   * operation ({@code "kms:" + operation}) except ReEncrypt, which needs {@code kms:ReEncryptFrom}
   * on the source key and {@code kms:ReEncryptTo} on the destination key.
   */
  public static List<String> actionsOf(String operation) {
    if (operation.equals("ReEncrypt")) {
      return List.of("kms:ReEncryptFrom", "kms:ReEncryptTo");
    }
    return List.of("kms:" + operation);
  }

  /** Whether an operation is authorized without a key policy (see {@link #NOT_ON_A_KEY}). */
  public static boolean isOnAKey(String operation) {
    return !NOT_ON_A_KEY.contains(operation);
  }
}
