package io.hsmkit.kms.api;

/** AWS KMS GenerateMac response; component names are AWS's member names with the first letter in lower case. */
public record GenerateMacResponse(
    byte[] mac,
    String macAlgorithm,
    String keyId) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateMacResponse[" + "mac=" + (mac == null ? "null" : "[" + mac.length + " bytes]") + ", " + "macAlgorithm=" + macAlgorithm + ", " + "keyId=" + keyId + "]";
  }
}
