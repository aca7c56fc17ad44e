package io.hsmkit.kms.api;

import java.util.Arrays;

/** AWS KMS GenerateRandom response; component names are AWS's member names with the first letter in lower case. */
public record GenerateRandomResponse(
    byte[] plaintext) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateRandomResponse[" + "plaintext=" + (plaintext == null ? "null" : "[" + plaintext.length + " bytes]") + "]";
  }

  /** Overwrites the plaintext bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (plaintext != null) {
      Arrays.fill(plaintext, (byte) 0);
    }
  }
}
