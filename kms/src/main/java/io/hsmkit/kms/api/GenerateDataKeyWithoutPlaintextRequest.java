package io.hsmkit.kms.api;

import java.util.List;
import java.util.Map;

/** AWS KMS GenerateDataKeyWithoutPlaintext request; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyWithoutPlaintextRequest(
    String keyId,
    Map<String, String> encryptionContext,
    String keySpec,
    Integer numberOfBytes,
    List<String> grantTokens) {}
