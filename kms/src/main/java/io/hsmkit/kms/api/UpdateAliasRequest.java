package io.hsmkit.kms.api;

/** AWS KMS UpdateAlias request; component names are AWS's member names with the first letter in lower case. */
public record UpdateAliasRequest(
    String aliasName,
    String targetKeyId) {}
