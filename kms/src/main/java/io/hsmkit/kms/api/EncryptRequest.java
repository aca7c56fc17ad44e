package io.hsmkit.kms.api;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** AWS KMS Encrypt request; component names are AWS's member names with the first letter in lower case. */
public record EncryptRequest(
    String keyId,
    byte[] plaintext,
    Map<String, String> encryptionContext,
    List<String> grantTokens,
    String encryptionAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "EncryptRequest[" + "keyId=" + keyId + ", " + "plaintext=" + (plaintext == null ? "null" : "[" + plaintext.length + " bytes]") + ", " + "encryptionContext=" + encryptionContext + ", " + "grantTokens=" + grantTokens + ", " + "encryptionAlgorithm=" + encryptionAlgorithm + "]";
  }

  /** Overwrites the plaintext bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (plaintext != null) {
      Arrays.fill(plaintext, (byte) 0);
    }
  }
}
