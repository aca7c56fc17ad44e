package io.hsmkit.kms.api;

/** AWS KMS CancelKeyDeletion request; component names are AWS's member names with the first letter in lower case. */
public record CancelKeyDeletionRequest(
    String keyId) {}
