package io.hsmkit.kms.api;

import java.util.Arrays;

/** AWS KMS GenerateDataKeyPair response; component names are AWS's member names with the first letter in lower case. */
public record GenerateDataKeyPairResponse(
    byte[] privateKeyCiphertextBlob,
    byte[] privateKeyPlaintext,
    byte[] publicKey,
    String keyId,
    String keyPairSpec) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateDataKeyPairResponse[" + "privateKeyCiphertextBlob=" + (privateKeyCiphertextBlob == null ? "null" : "[" + privateKeyCiphertextBlob.length + " bytes]") + ", " + "privateKeyPlaintext=" + (privateKeyPlaintext == null ? "null" : "[" + privateKeyPlaintext.length + " bytes]") + ", " + "publicKey=" + (publicKey == null ? "null" : "[" + publicKey.length + " bytes]") + ", " + "keyId=" + keyId + ", " + "keyPairSpec=" + keyPairSpec + "]";
  }

  /** Overwrites the privateKeyPlaintext bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (privateKeyPlaintext != null) {
      Arrays.fill(privateKeyPlaintext, (byte) 0);
    }
  }
}
