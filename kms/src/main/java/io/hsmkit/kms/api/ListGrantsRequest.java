package io.hsmkit.kms.api;

/** AWS KMS ListGrants request; component names are AWS's member names with the first letter in lower case. */
public record ListGrantsRequest(
    Integer limit,
    String marker,
    String keyId,
    String grantId,
    String granteePrincipal) {}
