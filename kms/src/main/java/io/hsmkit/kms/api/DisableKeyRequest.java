package io.hsmkit.kms.api;

/** AWS KMS DisableKey request; component names are AWS's member names with the first letter in lower case. */
public record DisableKeyRequest(
    String keyId) {}
