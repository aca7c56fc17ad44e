package io.hsmkit.pkcs11.raw;

/**
 * The single-part operations that {@link Pkcs11#initAndRun} runs together with their init call,
 * with the names of both PKCS#11 functions (what a {@link io.hsmkit.pkcs11.Pkcs11Exception} names).
 */
public enum SinglePart {
  ENCRYPT("C_EncryptInit", "C_Encrypt"),
  DECRYPT("C_DecryptInit", "C_Decrypt"),
  SIGN("C_SignInit", "C_Sign"),
  DIGEST("C_DigestInit", "C_Digest");

  private final String initFunction;
  private final String dataFunction;

  SinglePart(String initFunction, String dataFunction) {
    this.initFunction = initFunction;
    this.dataFunction = dataFunction;
  }

  /** The init function's name, for example {@code C_EncryptInit}. */
  public String initFunction() {
    return initFunction;
  }

  /** The single-part function's name, for example {@code C_Encrypt}. */
  public String dataFunction() {
    return dataFunction;
  }
}
