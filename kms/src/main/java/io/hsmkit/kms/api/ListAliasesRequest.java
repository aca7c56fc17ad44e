package io.hsmkit.kms.api;

/** AWS KMS ListAliases request; component names are AWS's member names with the first letter in lower case. */
public record ListAliasesRequest(
    String keyId,
    Integer limit,
    String marker) {}
