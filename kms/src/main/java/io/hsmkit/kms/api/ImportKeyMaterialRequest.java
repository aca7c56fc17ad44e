package io.hsmkit.kms.api;

import java.time.Instant;

/** AWS KMS ImportKeyMaterial request; component names are AWS's member names with the first letter in lower case. */
public record ImportKeyMaterialRequest(
    String keyId,
    byte[] importToken,
    byte[] encryptedKeyMaterial,
    Instant validTo,
    String expirationModel) {
  /** Byte arrays are shown by length only. */
  @Override
  public String toString() {
    return "ImportKeyMaterialRequest[" + "keyId=" + keyId + ", " + "importToken=" + (importToken == null ? "null" : "[" + importToken.length + " bytes]") + ", " + "encryptedKeyMaterial=" + (encryptedKeyMaterial == null ? "null" : "[" + encryptedKeyMaterial.length + " bytes]") + ", " + "validTo=" + validTo + ", " + "expirationModel=" + expirationModel + "]";
  }
}
