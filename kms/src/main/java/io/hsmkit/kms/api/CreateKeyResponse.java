package io.hsmkit.kms.api;

/** AWS KMS CreateKey response; component names are AWS's member names with the first letter in lower case. */
public record CreateKeyResponse(
    KeyMetadata keyMetadata) {}
