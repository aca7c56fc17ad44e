package io.hsmkit.kms.api;

/** AWS KMS DisableKeyRotation request; component names are AWS's member names with the first letter in lower case. */
public record DisableKeyRotationRequest(
    String keyId) {}
