package io.hsmkit.pkcs11.raw;

import java.util.Objects;

/**
 * CK_MECHANISM: a mechanism type and its parameters, immutable.
 *
 * @param type a CKM_ value
 * @param params its parameters, or {@code null} for a mechanism that takes none
 */
public record Mechanism(long type, MechanismParams params) {

  /** A mechanism without parameters. */
  public static Mechanism of(long type) {
    return new Mechanism(type, null);
  }

  /** A mechanism whose parameter is a plain byte string (an IV for CBC, for example). */
  public static Mechanism of(long type, byte[] parameter) {
    return new Mechanism(type, new MechanismParams.Bytes(parameter));
  }

  /** A mechanism with structured parameters. */
  public static Mechanism of(long type, MechanismParams params) {
    return new Mechanism(type, Objects.requireNonNull(params, "params"));
  }

  @Override
  public String toString() {
    return "Mechanism[0x" + Long.toHexString(type) + (params == null ? "" : ", " + params.getClass().getSimpleName()) + "]";
  }
}
