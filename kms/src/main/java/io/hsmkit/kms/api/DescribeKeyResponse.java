package io.hsmkit.kms.api;

/** AWS KMS DescribeKey response; component names are AWS's member names with the first letter in lower case. */
public record DescribeKeyResponse(
    KeyMetadata keyMetadata) {}
