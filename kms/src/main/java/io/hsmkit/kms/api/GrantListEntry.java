package io.hsmkit.kms.api;

import java.time.Instant;
import java.util.List;

/** The AWS KMS GrantListEntry structure; component names are AWS's member names with the first letter in lower case. */
public record GrantListEntry(
    String keyId,
    String grantId,
    String name,
    Instant creationDate,
    String granteePrincipal,
    String retiringPrincipal,
    String issuingAccount,
    List<String> operations,
    GrantConstraints constraints) {}
