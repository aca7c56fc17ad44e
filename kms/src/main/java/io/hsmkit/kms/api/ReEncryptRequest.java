package io.hsmkit.kms.api;

import java.util.List;
import java.util.Map;

/** AWS KMS ReEncrypt request; component names are AWS's member names with the first letter in lower case. */
public record ReEncryptRequest(
    byte[] ciphertextBlob,
    Map<String, String> sourceEncryptionContext,
    String sourceKeyId,
    String destinationKeyId,
    Map<String, String> destinationEncryptionContext,
    String sourceEncryptionAlgorithm,
    String destinationEncryptionAlgorithm,
    List<String> grantTokens) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "ReEncryptRequest[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "sourceEncryptionContext=" + sourceEncryptionContext + ", " + "sourceKeyId=" + sourceKeyId + ", " + "destinationKeyId=" + destinationKeyId + ", " + "destinationEncryptionContext=" + destinationEncryptionContext + ", " + "sourceEncryptionAlgorithm=" + sourceEncryptionAlgorithm + ", " + "destinationEncryptionAlgorithm=" + destinationEncryptionAlgorithm + ", " + "grantTokens=" + grantTokens + "]";
  }
}
