package io.hsmkit.kms.api;

/** AWS KMS CreateAlias request; component names are AWS's member names with the first letter in lower case. */
public record CreateAliasRequest(
    String aliasName,
    String targetKeyId) {}
