package io.hsmkit.kms.api;

/** AWS KMS CancelKeyDeletion response; component names are AWS's member names with the first letter in lower case. */
public record CancelKeyDeletionResponse(
    String keyId) {}
