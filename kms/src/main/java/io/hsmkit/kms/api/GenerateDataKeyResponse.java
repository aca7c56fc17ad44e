package io.hsmkit.kms.api;

import java.util.Arrays;

/** AWS KMS GenerateDataKey response; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyResponse(
    byte[] ciphertextBlob,
    byte[] plaintext,
    String keyId) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateDataKeyResponse[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "plaintext=" + (plaintext == null ? "null" : "[" + plaintext.length + " bytes]") + ", " + "keyId=" + keyId + "]";
  }

  /** Overwrites the plaintext bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (plaintext != null) {
      Arrays.fill(plaintext, (byte) 0);
    }
  }
}
