package io.hsmkit.kms.api;

/** AWS KMS ListResourceTags request; component names are AWS's member names with the first letter in lower case. */
public record ListResourceTagsRequest(
    String keyId,
    Integer limit,
    String marker) {}
