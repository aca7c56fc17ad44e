package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import java.util.List;
import java.util.Map;

/**
 * One authorization question: may {@code caller} perform {@code action} (an IAM action name such
 * as {@code kms:Encrypt}) on the key {@code keyArn} whose key policy is {@code keyPolicyJson},
 * given the grants on that key and the request's encryption context and grant tokens.
 * {@code keyArn} and {@code keyPolicyJson} are null for actions not on a key (CreateKey,
 * ListKeys, GenerateRandom ...).
 *
 * <p>{@code approvalParameters} are the call's arguments that a quorum approval must name besides
 * the key (e.g. {@code days} of ScheduleKeyDeletion, {@code policy-sha256} of PutKeyPolicy,
 * {@code material-sha256} of ImportKeyMaterial), so that an approval for one call cannot be spent
 * on another call of the same operation on the same key. Policies ignore them; a quorum guard
 * ({@code io.hsmkit.kms.server.ServerAccessControl}) binds them into the approved action. They are
 * never secrets: a secret argument is carried as its SHA-256. Empty for every other call; the
 * seven-argument constructor, which most callers use, leaves them empty.
 */
public record AccessRequest(
    Caller caller,
    String action,
    String keyArn,
    String keyPolicyJson,
    List<Grant> grants,
    Map<String, String> encryptionContext,
    List<String> grantTokens,
    Map<String, String> approvalParameters) {
  public AccessRequest {
    grants = grants == null ? List.of() : List.copyOf(grants);
    encryptionContext = encryptionContext == null ? Map.of() : Map.copyOf(encryptionContext);
    grantTokens = grantTokens == null ? List.of() : List.copyOf(grantTokens);
    approvalParameters = approvalParameters == null ? Map.of() : Map.copyOf(approvalParameters);
  }

  /** A request without approval parameters (every call but the quorum-guarded ones). */
  public AccessRequest(Caller caller, String action, String keyArn, String keyPolicyJson, List<Grant> grants,
      Map<String, String> encryptionContext, List<String> grantTokens) {
    this(caller, action, keyArn, keyPolicyJson, grants, encryptionContext, grantTokens, Map.of());
  }

  /** This request with other grant tokens (everything else kept). */
  public AccessRequest withGrantTokens(List<String> tokens) {
    return new AccessRequest(caller, action, keyArn, keyPolicyJson, grants, encryptionContext, tokens, approvalParameters);
  }
}
