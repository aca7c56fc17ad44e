package io.hsmkit.kms.api;

/** AWS KMS ScheduleKeyDeletion request; component names are AWS's member names with the first letter in lower case. */
public record ScheduleKeyDeletionRequest(
    String keyId,
    Integer pendingWindowInDays) {}
