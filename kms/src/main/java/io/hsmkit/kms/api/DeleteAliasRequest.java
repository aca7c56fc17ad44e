package io.hsmkit.kms.api;

/** AWS KMS DeleteAlias request; component names are AWS's member names with the first letter in lower case. */
public record DeleteAliasRequest(
    String aliasName) {}
