package io.hsmkit.kms.api;

import java.time.Instant;

/** The AWS KMS RotationsListEntry structure; component names are AWS's member names with the first letter in lower case. */
public record RotationsListEntry(
    String keyId,
    Instant rotationDate,
    String rotationType) {}
