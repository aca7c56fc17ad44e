package io.hsmkit.kms.api;

import java.util.Arrays;
import java.util.List;

/** AWS KMS GenerateMac request; component names are AWS's member names with the first letter in lower case. */
public record GenerateMacRequest(
    byte[] message,
    String keyId,
    String macAlgorithm,
    List<String> grantTokens) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "GenerateMacRequest[" + "message=" + (message == null ? "null" : "[" + message.length + " bytes]") + ", " + "keyId=" + keyId + ", " + "macAlgorithm=" + macAlgorithm + ", " + "grantTokens=" + grantTokens + "]";
  }

  /** Overwrites the message bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (message != null) {
      Arrays.fill(message, (byte) 0);
    }
  }
}
