package io.hsmkit.pkcs11;

import io.hsmkit.pkcs11.constants.CKR;

/**
 * A PKCS#11 function returned something other than CKR_OK.
 *
 * <p>Carries the function's name and the raw CKR code; the code is kept raw here and translated
 * into JCA exceptions once, at the provider's edge. The message names both, for example
 * {@code "C_Sign: CKR_DEVICE_ERROR (0x00000030)"}, and never contains data, keys or PINs.
 *
 * <p>Unchecked, because nearly every PKCS#11 call can fail with device errors that the caller can
 * only pass on; code that can act on a specific code tests {@link #is(long)}.
 */
public class Pkcs11Exception extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String function;
  private final long ckr;
  private final long requiredLength;

  public Pkcs11Exception(String function, long ckr) {
    this(function, ckr, -1, null);
  }

  /**
   * @param requiredLength for CKR_BUFFER_TOO_SMALL, the output length that the library asked for
   *     (or -1 when not known)
   */
  public Pkcs11Exception(String function, long ckr, long requiredLength, String detail) {
    super(function + ": " + CKR.describe(ckr) + (detail == null ? "" : " (" + detail + ")"));
    this.function = function;
    this.ckr = ckr;
    this.requiredLength = requiredLength;
  }

  /** The PKCS#11 function that failed, such as {@code "C_Sign"}. */
  public String function() {
    return function;
  }

  /** The raw CK_RV value. */
  public long ckr() {
    return ckr;
  }

  /** The CKR name, such as {@code "CKR_DEVICE_ERROR"} (vendor codes as {@code CKR_VENDOR_DEFINED+0x..}). */
  public String ckrName() {
    return CKR.name(ckr);
  }

  /** For CKR_BUFFER_TOO_SMALL: the length the library needs, or -1. */
  public long requiredLength() {
    return requiredLength;
  }

  /** True when the code is {@code code}. */
  public boolean is(long code) {
    return ckr == code;
  }

  /** True when the code is any of {@code codes}. */
  public boolean isAny(long... codes) {
    for (long c : codes) {
      if (c == ckr) {
        return true;
      }
    }
    return false;
  }
}
