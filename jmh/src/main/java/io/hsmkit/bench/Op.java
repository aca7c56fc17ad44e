package io.hsmkit.bench;

/**
 * The five operations, numbered as {@code hsmbench_run} numbers them (src/main/c/hsmbench.c).
 * Both sides make exactly the same PKCS#11 calls for one operation.
 */
public enum Op {
  /** AES-256-GCM encrypt of 1 KiB: C_EncryptInit (12-byte IV, no AAD, 128-bit tag) + one C_Encrypt. */
  AES_GCM_1K(0),
  /** HMAC-SHA256 of 1 KiB: C_SignInit(CKM_SHA256_HMAC) + one C_Sign. */
  HMAC_SHA256_1K(1),
  /** ECDSA P-256 sign of a 32-byte digest: C_SignInit(CKM_ECDSA) + one C_Sign. */
  ECDSA_P256(2),
  /** RSA-2048 PKCS#1 v1.5 sign of a 51-byte SHA-256 DigestInfo: C_SignInit(CKM_RSA_PKCS) + one C_Sign. */
  RSA2048(3),
  /** One C_GenerateRandom of 32 bytes. */
  RANDOM32(4);

  /** The op number of hsmbench_run. */
  public final int index;

  Op(int index) {
    this.index = index;
  }

  private static final Op[] BY_INDEX = values();

  public static Op of(int index) {
    return BY_INDEX[index];
  }
}
