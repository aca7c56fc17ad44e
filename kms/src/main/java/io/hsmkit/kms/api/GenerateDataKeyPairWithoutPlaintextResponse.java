package io.hsmkit.kms.api;

/** AWS KMS GenerateDataKeyPairWithoutPlaintext response; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyPairWithoutPlaintextResponse(
    byte[] privateKeyCiphertextBlob,
    byte[] publicKey,
    String keyId,
    String keyPairSpec) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateDataKeyPairWithoutPlaintextResponse[" + "privateKeyCiphertextBlob=" + (privateKeyCiphertextBlob == null ? "null" : "[" + privateKeyCiphertextBlob.length + " bytes]") + ", " + "publicKey=" + (publicKey == null ? "null" : "[" + publicKey.length + " bytes]") + ", " + "keyId=" + keyId + ", " + "keyPairSpec=" + keyPairSpec + "]";
  }
}
