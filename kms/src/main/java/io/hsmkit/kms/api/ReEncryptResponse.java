package io.hsmkit.kms.api;

/** AWS KMS ReEncrypt response; component names are AWS's member names with the first letter in lower case. */
public record ReEncryptResponse(
    byte[] ciphertextBlob,
    String sourceKeyId,
    String keyId,
    String sourceEncryptionAlgorithm,
    String destinationEncryptionAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "ReEncryptResponse[" + "ciphertextBlob=" + (ciphertextBlob == null ? "null" : "[" + ciphertextBlob.length + " bytes]") + ", " + "sourceKeyId=" + sourceKeyId + ", " + "keyId=" + keyId + ", " + "sourceEncryptionAlgorithm=" + sourceEncryptionAlgorithm + ", " + "destinationEncryptionAlgorithm=" + destinationEncryptionAlgorithm + "]";
  }
}
