package io.hsmkit.kms.api;

import java.util.List;
import java.util.Map;

/** AWS KMS GenerateDataKeyPairWithoutPlaintext request; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyPairWithoutPlaintextRequest(
    Map<String, String> encryptionContext,
    String keyId,
    String keyPairSpec,
    List<String> grantTokens) {}
