package io.hsmkit.kms.api;

import java.util.Map;

/** The AWS KMS GrantConstraints structure; component names are AWS's member names with the first letter in lower case. */
public record GrantConstraints(
    Map<String, String> encryptionContextSubset,
    Map<String, String> encryptionContextEquals) {}
