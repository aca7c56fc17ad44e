package io.hsmkit.kms.api;

/** AWS KMS RevokeGrant request; component names are AWS's member names with the first letter in lower case. */
public record RevokeGrantRequest(
    String keyId,
    String grantId) {}
