package io.hsmkit.kms.api;

import java.util.Arrays;
import java.util.List;

/** AWS KMS Sign request; component names are AWS's member names with the first letter in lower case. */
public record SignRequest(
    String keyId,
    byte[] message,
    String messageType,
    List<String> grantTokens,
    String signingAlgorithm) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "SignRequest[" + "keyId=" + keyId + ", " + "message=" + (message == null ? "null" : "[" + message.length + " bytes]") + ", " + "messageType=" + messageType + ", " + "grantTokens=" + grantTokens + ", " + "signingAlgorithm=" + signingAlgorithm + "]";
  }

  /** Overwrites the message bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (message != null) {
      Arrays.fill(message, (byte) 0);
    }
  }
}
