package io.hsmkit.kms.api;

/** AWS KMS Sign response; component names are AWS's member names with the first letter in lower case. */
public record SignResponse(
    String keyId,
    byte[] signature,
    String signingAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "SignResponse[" + "keyId=" + keyId + ", " + "signature=" + (signature == null ? "null" : "[" + signature.length + " bytes]") + ", " + "signingAlgorithm=" + signingAlgorithm + "]";
  }
}
