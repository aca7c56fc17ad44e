package io.hsmkit.pkcs11.raw;

/**
 * CK_TOKEN_INFO. Counts that the token reports as CK_UNAVAILABLE_INFORMATION or
 * CK_EFFECTIVELY_INFINITE keep their raw values; see {@link Platform#UNAVAILABLE_INFORMATION}.
 */
public record TokenInfo(
    String label,
    String manufacturerId,
    String model,
    String serialNumber,
    long flags,
    long maxSessionCount,
    long sessionCount,
    long maxRwSessionCount,
    long rwSessionCount,
    long maxPinLen,
    long minPinLen,
    long totalPublicMemory,
    long freePublicMemory,
    long totalPrivateMemory,
    long freePrivateMemory,
    Version hardwareVersion,
    Version firmwareVersion,
    String utcTime) {

  /** CKF_TOKEN_INITIALIZED. */
  public boolean initialized() {
    return (flags & 0x400L) != 0;
  }

  /** CKF_LOGIN_REQUIRED. */
  public boolean loginRequired() {
    return (flags & 0x4L) != 0;
  }
}
