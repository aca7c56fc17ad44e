package io.hsmkit.kms.api;

/** The AWS KMS KeyListEntry structure; component names are AWS's member names with the first letter in lower case. */
public record KeyListEntry(
    String keyId,
    String keyArn) {}
