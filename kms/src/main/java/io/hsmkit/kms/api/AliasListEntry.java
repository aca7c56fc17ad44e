package io.hsmkit.kms.api;

import java.time.Instant;

/** The AWS KMS AliasListEntry structure; component names are AWS's member names with the first letter in lower case. */
public record AliasListEntry(
    String aliasName,
    String aliasArn,
    String targetKeyId,
    Instant creationDate,
    Instant lastUpdatedDate) {}
