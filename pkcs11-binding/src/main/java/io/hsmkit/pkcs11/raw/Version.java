package io.hsmkit.pkcs11.raw;

/** CK_VERSION. */
public record Version(int major, int minor) {
  @Override
  public String toString() {
    return major + "." + minor;
  }
}
