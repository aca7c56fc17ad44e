package io.hsmkit.kms.api;

/** AWS KMS VerifyMac response; component names are AWS's member names with the first letter in lower case. */
public record VerifyMacResponse(
    String keyId,
    boolean macValid,
    String macAlgorithm) {}
