package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.util.List;
import java.util.Map;

/** The default key policy and the checks PutKeyPolicy and CreateKey run on a new policy. */
public final class KeyPolicies {
  private KeyPolicies() {}

  /**
   * AWS's default key policy (what CreateKey gives a key without a Policy): one statement that
   * gives the account root {@code kms:*}, which lets the account's identity policies decide.
   */
  public static String defaultPolicy(String accountId) {
    if (accountId == null || !PrincipalArns.ACCOUNT.matcher(accountId).matches()) {
      throw new IllegalArgumentException("an AWS account id is 12 digits");
    }
    return """
        {
          "Version": "2012-10-17",
          "Id": "key-default-1",
          "Statement": [
            {
              "Sid": "Enable IAM User Permissions",
              "Effect": "Allow",
              "Principal": {"AWS": "arn:aws:iam::%s:root"},
              "Action": "kms:*",
              "Resource": "*"
            }
          ]
        }""".formatted(accountId);
  }

  /**
   * Validates a key policy for CreateKey or PutKeyPolicy: the grammar ({@link KeyPolicy#parse}),
   * and unless {@code bypassPolicyLockoutSafetyCheck}, AWS's lockout check: the new policy must
   * let the caller make a later PutKeyPolicy on the key (through the key policy, or through the
   * account root and the caller's identity policy). Grants do not count: none conveys PutKeyPolicy.
   *
   * @return the parsed policy
   * @throws KmsException MALFORMED_POLICY_DOCUMENT
   */
  public static KeyPolicy validateForPut(String policyJson, Caller caller, String keyArn, boolean bypassPolicyLockoutSafetyCheck) {
    KeyPolicy p = KeyPolicy.parse(policyJson);
    if (!bypassPolicyLockoutSafetyCheck) {
      AccessRequest r = new AccessRequest(caller, "kms:PutKeyPolicy", keyArn, policyJson, List.of(), Map.of(), List.of());
      PolicyAccessControl.Decision d = new PolicyAccessControl().decide(r, Map.of(), null);
      if (!d.allowed()) {
        throw new KmsException(KmsError.MALFORMED_POLICY_DOCUMENT,
            "The new key policy will not allow you to update the key policy in the future (it does not allow " + caller.principalArn()
                + " kms:PutKeyPolicy; set BypassPolicyLockoutSafetyCheck to store it anyway)");
      }
    }
    return p;
  }
}
