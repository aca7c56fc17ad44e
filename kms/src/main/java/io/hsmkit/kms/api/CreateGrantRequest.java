package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS CreateGrant request; component names are AWS's member names with the first letter in lower case. */
public record CreateGrantRequest(
    String keyId,
    String granteePrincipal,
    String retiringPrincipal,
    List<String> operations,
    GrantConstraints constraints,
    List<String> grantTokens,
    String name) {}
