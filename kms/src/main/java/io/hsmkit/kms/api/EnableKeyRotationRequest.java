package io.hsmkit.kms.api;

/** AWS KMS EnableKeyRotation request; component names are AWS's member names with the first letter in lower case. */
public record EnableKeyRotationRequest(
    String keyId,
    Integer rotationPeriodInDays) {}
