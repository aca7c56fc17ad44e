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
 */
public record AccessRequest(
    Caller caller,
    String action,
    String keyArn,
    String keyPolicyJson,
    List<Grant> grants,
    Map<String, String> encryptionContext,
    List<String> grantTokens) {
  public AccessRequest {
    grants = grants == null ? List.of() : List.copyOf(grants);
    encryptionContext = encryptionContext == null ? Map.of() : Map.copyOf(encryptionContext);
    grantTokens = grantTokens == null ? List.of() : List.copyOf(grantTokens);
  }
}
