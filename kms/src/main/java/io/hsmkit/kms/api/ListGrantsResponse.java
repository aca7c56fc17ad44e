package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListGrants response; component names are AWS's member names with the first letter in lower case. */
public record ListGrantsResponse(
    List<GrantListEntry> grants,
    String nextMarker,
    boolean truncated) {}
