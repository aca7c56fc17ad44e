package io.hsmkit.kms.api;

/** AWS KMS Verify response; component names are AWS's member names with the first letter in lower case. */
public record VerifyResponse(
    String keyId,
    boolean signatureValid,
    String signingAlgorithm) {}
