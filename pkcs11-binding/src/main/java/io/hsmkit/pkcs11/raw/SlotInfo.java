package io.hsmkit.pkcs11.raw;

/** CK_SLOT_INFO. */
public record SlotInfo(String slotDescription, String manufacturerId, long flags, Version hardwareVersion, Version firmwareVersion) {
  /** CKF_TOKEN_PRESENT. */
  public boolean tokenPresent() {
    return (flags & 0x1L) != 0;
  }
}
