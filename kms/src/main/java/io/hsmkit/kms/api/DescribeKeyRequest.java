package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS DescribeKey request; component names are AWS's member names with the first letter in lower case. */
public record DescribeKeyRequest(
    String keyId,
    List<String> grantTokens) {}
