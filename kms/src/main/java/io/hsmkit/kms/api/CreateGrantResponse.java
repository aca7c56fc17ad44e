package io.hsmkit.kms.api;

/** AWS KMS CreateGrant response; component names are AWS's member names with the first letter in lower case. */
public record CreateGrantResponse(
    String grantToken,
    String grantId) {}
