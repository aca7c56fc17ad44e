package io.hsmkit.kms.api;

/** AWS KMS DeleteImportedKeyMaterial request; component names are AWS's member names with the first letter in lower case. */
public record DeleteImportedKeyMaterialRequest(
    String keyId) {}
