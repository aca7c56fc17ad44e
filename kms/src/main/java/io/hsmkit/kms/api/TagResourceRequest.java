package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS TagResource request; component names are AWS's member names with the first letter in lower case. */
public record TagResourceRequest(
    String keyId,
    List<Tag> tags) {}
