package io.hsmkit.kms.api;

/** AWS KMS ListKeyRotations request; component names are AWS's member names with the first letter in lower case. */
public record ListKeyRotationsRequest(
    String keyId,
    Integer limit,
    String marker) {}
