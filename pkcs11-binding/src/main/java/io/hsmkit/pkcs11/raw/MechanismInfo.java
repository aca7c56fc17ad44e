package io.hsmkit.pkcs11.raw;

/** CK_MECHANISM_INFO: key size range (bits or bytes, as the mechanism defines) and CKF_ flags. */
public record MechanismInfo(long minKeySize, long maxKeySize, long flags) {
  /** True when every bit of {@code flag} is set. */
  public boolean has(long flag) {
    return (flags & flag) == flag;
  }
}
