package io.hsmkit.kms.api;

/** AWS KMS UpdateKeyDescription request; component names are AWS's member names with the first letter in lower case. */
public record UpdateKeyDescriptionRequest(
    String keyId,
    String description) {}
