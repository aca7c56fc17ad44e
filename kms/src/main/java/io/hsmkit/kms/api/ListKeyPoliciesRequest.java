package io.hsmkit.kms.api;

/** AWS KMS ListKeyPolicies request; component names are AWS's member names with the first letter in lower case. */
public record ListKeyPoliciesRequest(
    String keyId,
    Integer limit,
    String marker) {}
