package io.hsmkit.kms.api;

/** AWS KMS EnableKey request; component names are AWS's member names with the first letter in lower case. */
public record EnableKeyRequest(
    String keyId) {}
