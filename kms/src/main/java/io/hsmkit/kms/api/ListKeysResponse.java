package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListKeys response; component names are AWS's member names with the first letter in lower case. */
public record ListKeysResponse(
    List<KeyListEntry> keys,
    String nextMarker,
    boolean truncated) {}
