package io.hsmkit.kms.api;

/** AWS KMS RotateKeyOnDemand request; component names are AWS's member names with the first letter in lower case. */
public record RotateKeyOnDemandRequest(
    String keyId) {}
