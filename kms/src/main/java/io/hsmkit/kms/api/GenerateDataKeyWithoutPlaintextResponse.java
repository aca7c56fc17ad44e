package io.hsmkit.kms.api;

/** AWS KMS GenerateDataKeyWithoutPlaintext response; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyWithoutPlaintextResponse(
    byte[] ciphertextBlob,
    String keyId) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateDataKeyWithoutPlaintextResponse[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "keyId=" + keyId + "]";
  }
}
