package io.hsmkit.kms.api;

import java.time.Instant;

/** AWS KMS ScheduleKeyDeletion response; component names are AWS's member names with the first letter in lower case. */
public record ScheduleKeyDeletionResponse(
    String keyId,
    Instant deletionDate,
    String keyState,
    Integer pendingWindowInDays) {}
