package io.hsmkit.kms.api;

/** AWS KMS PutKeyPolicy request; component names are AWS's member names with the first letter in lower case. */
public record PutKeyPolicyRequest(
    String keyId,
    String policyName,
    String policy,
    Boolean bypassPolicyLockoutSafetyCheck) {}
