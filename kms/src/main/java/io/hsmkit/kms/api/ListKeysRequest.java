package io.hsmkit.kms.api;

/** AWS KMS ListKeys request; component names are AWS's member names with the first letter in lower case. */
public record ListKeysRequest(
    Integer limit,
    String marker) {}
