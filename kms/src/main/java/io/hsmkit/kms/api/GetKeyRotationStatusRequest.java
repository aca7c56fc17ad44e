package io.hsmkit.kms.api;

/** AWS KMS GetKeyRotationStatus request; component names are AWS's member names with the first letter in lower case. */
public record GetKeyRotationStatusRequest(
    String keyId) {}
