package io.hsmkit.kms.api;

/** AWS KMS GetKeyPolicy request; component names are AWS's member names with the first letter in lower case. */
public record GetKeyPolicyRequest(
    String keyId,
    String policyName) {}
