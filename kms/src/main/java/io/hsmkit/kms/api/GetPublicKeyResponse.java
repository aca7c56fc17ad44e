package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS GetPublicKey response; component names are AWS's member names with the first letter in lower case. */
public record GetPublicKeyResponse(
    String keyId,
    byte[] publicKey,
    String customerMasterKeySpec,
    String keySpec,
    String keyUsage,
    List<String> encryptionAlgorithms,
    List<String> signingAlgorithms) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GetPublicKeyResponse[" + "keyId=" + keyId + ", " + "publicKey=" + (publicKey == null ? "null" : "[" + publicKey.length + " bytes]") + ", " + "customerMasterKeySpec=" + customerMasterKeySpec + ", " + "keySpec=" + keySpec + ", " + "keyUsage=" + keyUsage + ", " + "encryptionAlgorithms=" + encryptionAlgorithms + ", " + "signingAlgorithms=" + signingAlgorithms + "]";
  }
}
