package io.hsmkit.kms.api;

/** AWS KMS GetKeyPolicy response; component names are AWS's member names with the first letter in lower case. */
public record GetKeyPolicyResponse(
    String policy,
    String policyName) {}
