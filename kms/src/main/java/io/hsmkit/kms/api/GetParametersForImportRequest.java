package io.hsmkit.kms.api;

/** AWS KMS GetParametersForImport request; component names are AWS's member names with the first letter in lower case. */
public record GetParametersForImportRequest(
    String keyId,
    String wrappingAlgorithm,
    String wrappingKeySpec) {}
