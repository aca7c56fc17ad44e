package io.hsmkit.kms.api;

/** AWS KMS RotateKeyOnDemand response; component names are AWS's member names with the first letter in lower case. */
public record RotateKeyOnDemandResponse(
    String keyId) {}
