package io.hsmkit.kms.api;

/** AWS KMS GenerateRandom request; component names are AWS's member names with the first letter in lower case. */
public record GenerateRandomRequest(
    Integer numberOfBytes,
    String customKeyStoreId) {}
