package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListAliases response; component names are AWS's member names with the first letter in lower case. */
public record ListAliasesResponse(
    List<AliasListEntry> aliases,
    String nextMarker,
    boolean truncated) {}
