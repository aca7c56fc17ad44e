package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS UntagResource request; component names are AWS's member names with the first letter in lower case. */
public record UntagResourceRequest(
    String keyId,
    List<String> tagKeys) {}
