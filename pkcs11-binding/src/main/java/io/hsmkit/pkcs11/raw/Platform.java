package io.hsmkit.pkcs11.raw;

import java.nio.ByteOrder;
import java.util.Locale;

/**
 * The C type sizes that PKCS#11 data depends on, for this JVM's platform.
 *
 * <p>CK_ULONG is C's {@code unsigned long}: 8 bytes on 64-bit Linux and macOS (LP64), 4 bytes on
 * Windows (LLP64) and on 32-bit systems. Attribute values such as CKA_CLASS are CK_ULONG in native
 * byte order, so value types need this without touching JNA. The JNA layer checks at load time that
 * its own idea of {@code long} agrees with this one.
 */
public final class Platform {
  /** True on Windows, where PKCS#11 structures are packed to 1 byte ({@code #pragma pack(push, cryptoki, 1)}). */
  public static final boolean WINDOWS =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  /** Size of a pointer in bytes. */
  public static final int POINTER_SIZE = is64Bit() ? 8 : 4;

  /** Size of CK_ULONG (C {@code unsigned long}) in bytes. */
  public static final int ULONG_SIZE = (WINDOWS || POINTER_SIZE == 4) ? 4 : 8;

  /** Byte order of native integers. */
  public static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** The value of CK_UNAVAILABLE_INFORMATION (~0UL) as it reads back into a Java long. */
  public static final long UNAVAILABLE_INFORMATION = ULONG_SIZE == 8 ? -1L : 0xFFFFFFFFL;

  private Platform() {}

  private static boolean is64Bit() {
    String model = System.getProperty("sun.arch.data.model");
    if (model != null && !model.isEmpty() && !"unknown".equals(model)) {
      return "64".equals(model);
    }
    return System.getProperty("os.arch", "").contains("64");
  }

  /** Masks a value read as a Java long to the width of CK_ULONG. */
  public static long ulong(long v) {
    return ULONG_SIZE == 8 ? v : v & 0xFFFFFFFFL;
  }
}
