package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListKeyRotations response; component names are AWS's member names with the first letter in lower case. */
public record ListKeyRotationsResponse(
    List<RotationsListEntry> rotations,
    String nextMarker,
    boolean truncated) {}
