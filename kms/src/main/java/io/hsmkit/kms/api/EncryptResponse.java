package io.hsmkit.kms.api;

/** AWS KMS Encrypt response; component names are AWS's member names with the first letter in lower case. */
public record EncryptResponse(
    byte[] ciphertextBlob,
    String keyId,
    String encryptionAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "EncryptResponse[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "keyId=" + keyId + ", " + "encryptionAlgorithm=" + encryptionAlgorithm + "]";
  }
}
