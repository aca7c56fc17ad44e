package io.hsmkit.kms.api;

/** AWS KMS RetireGrant request; component names are AWS's member names with the first letter in lower case. */
public record RetireGrantRequest(
    String grantToken,
    String keyId,
    String grantId) {}
