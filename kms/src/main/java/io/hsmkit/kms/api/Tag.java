package io.hsmkit.kms.api;

/** The AWS KMS Tag structure; component names are AWS's member names with the first letter in lower case. */
public record Tag(
    String tagKey,
    String tagValue) {}
