package io.hsmkit.kms.api;

/** AWS KMS ListRetirableGrants request; component names are AWS's member names with the first letter in lower case. */
public record ListRetirableGrantsRequest(
    Integer limit,
    String marker,
    String retiringPrincipal) {}
