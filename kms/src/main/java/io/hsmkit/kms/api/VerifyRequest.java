package io.hsmkit.kms.api;

import java.util.Arrays;
import java.util.List;

/** AWS KMS Verify request; component names are AWS's member names with the first letter in lower case. */
public record VerifyRequest(
    String keyId,
    byte[] message,
    String messageType,
    byte[] signature,
    String signingAlgorithm,
    List<String> grantTokens) {
  /** Byte arrays are shown by length only, so a plaintext never reaches a log. */
  @Override
  public String toString() {
    return "VerifyRequest[" + "keyId=" + keyId + ", " + "message=" + (message == null ? "null" : "[" + message.length + " bytes]") + ", " + "messageType=" + messageType + ", " + "signature=" + (signature == null ? "null" : "[" + signature.length + " bytes]") + ", " + "signingAlgorithm=" + signingAlgorithm + ", " + "grantTokens=" + grantTokens + "]";
  }

  /** Overwrites the message bytes with zeros, once the caller is done with them. */
  public void wipe() {
    if (message != null) {
      Arrays.fill(message, (byte) 0);
    }
  }
}
