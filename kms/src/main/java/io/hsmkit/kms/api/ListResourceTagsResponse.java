package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListResourceTags response; component names are AWS's member names with the first letter in lower case. */
public record ListResourceTagsResponse(
    List<Tag> tags,
    String nextMarker,
    boolean truncated) {}
