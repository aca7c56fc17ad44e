package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS GetPublicKey request; component names are AWS's member names with the first letter in lower case. */
public record GetPublicKeyRequest(
    String keyId,
    List<String> grantTokens) {}
