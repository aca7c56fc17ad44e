package io.hsmkit.kms.api;

import java.time.Instant;

/** AWS KMS GetKeyRotationStatus response; component names are AWS's member names with the first letter in lower case. */
public record GetKeyRotationStatusResponse(
    boolean keyRotationEnabled,
    String keyId,
    Integer rotationPeriodInDays,
    Instant nextRotationDate,
    Instant onDemandRotationStartDate) {}
