package io.hsmkit.kms.api;

import java.util.List;
import java.util.Map;

/** AWS KMS Decrypt request; component names are AWS's member names with the first letter in lower case. */
public record DecryptRequest(
    byte[] ciphertextBlob,
    Map<String, String> encryptionContext,
    List<String> grantTokens,
    String keyId,
    String encryptionAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "DecryptRequest[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "encryptionContext=" + encryptionContext + ", " + "grantTokens=" + grantTokens + ", " + "keyId=" + keyId + ", " + "encryptionAlgorithm=" + encryptionAlgorithm + "]";
  }
}
