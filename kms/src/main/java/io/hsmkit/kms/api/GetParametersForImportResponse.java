package io.hsmkit.kms.api;

import java.time.Instant;

/** AWS KMS GetParametersForImport response; component names are AWS's member names with the first letter in lower case. */
public record GetParametersForImportResponse(
    String keyId,
    byte[] importToken,
    byte[] publicKey,
    Instant parametersValidTo) {
  /** Byte arrays are shown by length only. */
  @Override
  public String toString() {
    return "GetParametersForImportResponse[" + "keyId=" + keyId + ", " + "importToken=" + (importToken == null ? "null" : "[" + importToken.length + " bytes]") + ", " + "publicKey=" + (publicKey == null ? "null" : "[" + publicKey.length + " bytes]") + ", " + "parametersValidTo=" + parametersValidTo + "]";
  }
}
