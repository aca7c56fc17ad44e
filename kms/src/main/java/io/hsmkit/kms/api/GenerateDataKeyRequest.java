package io.hsmkit.kms.api;

import java.util.List;
import java.util.Map;

/** AWS KMS GenerateDataKey request; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyRequest(
    String keyId,
    Map<String, String> encryptionContext,
    Integer numberOfBytes,
    String keySpec,
    List<String> grantTokens) {}
