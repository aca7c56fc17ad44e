package io.hsmkit.pkcs11.raw;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One CK_ATTRIBUTE: a type and its value in the token's native encoding, immutable.
 *
 * <p>Values are kept as the bytes that PKCS#11 puts in {@code pValue}: CK_ULONG in native width
 * and byte order, CK_BBOOL as one byte, strings as UTF-8, big integers big-endian. A value of
 * {@code null} means "no value": in a request template it asks for the length only, in an answer
 * it means the token did not give the value (sensitive, or no such attribute).
 *
 * <p>The value is copied in and copied out, so an {@code Attribute} can be shared between threads.
 * Secret values (CKA_VALUE of a key being imported) should be passed with {@link #secret} so that
 * {@link #toString()} never prints them.
 */
public final class Attribute {
  private final long type;
  private final byte[] value;
  private final boolean secret;

  private Attribute(long type, byte[] value, boolean secret) {
    this.type = type;
    this.value = value;
    this.secret = secret;
  }

  /** An attribute with raw bytes (copied). */
  public static Attribute bytes(long type, byte[] value) {
    return new Attribute(type, value == null ? null : value.clone(), false);
  }

  /** An attribute whose value is secret: never printed. The caller should wipe its own copy. */
  public static Attribute secret(long type, byte[] value) {
    return new Attribute(type, value == null ? null : value.clone(), true);
  }

  /** An attribute with no value: used in C_GetAttributeValue requests. */
  public static Attribute empty(long type) {
    return new Attribute(type, null, false);
  }

  /** A CK_ULONG attribute (CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN, CKA_MODULUS_BITS, ...). */
  public static Attribute ulong(long type, long v) {
    ByteBuffer b = ByteBuffer.allocate(Platform.ULONG_SIZE).order(Platform.ORDER);
    if (Platform.ULONG_SIZE == 8) {
      b.putLong(v);
    } else {
      b.putInt((int) v);
    }
    return new Attribute(type, b.array(), false);
  }

  /** A CK_BBOOL attribute. */
  public static Attribute bool(long type, boolean v) {
    return new Attribute(type, new byte[] {(byte) (v ? 1 : 0)}, false);
  }

  /** A UTF-8 string attribute (CKA_LABEL). */
  public static Attribute string(long type, String v) {
    return new Attribute(type, v.getBytes(StandardCharsets.UTF_8), false);
  }

  /** Wraps bytes the binding already owns (no copy); for the native layer only. */
  static Attribute own(long type, byte[] value) {
    return new Attribute(type, value, false);
  }

  public long type() {
    return type;
  }

  /** True when the attribute carries a value. */
  public boolean present() {
    return value != null;
  }

  /** The value's length, or -1 when absent. */
  public int length() {
    return value == null ? -1 : value.length;
  }

  /** A copy of the value, or null when absent. */
  public byte[] value() {
    return value == null ? null : value.clone();
  }

  /** Whether the value must never be printed. */
  public boolean isSecret() {
    return secret;
  }

  /** Copies the value into {@code dst}; for the native layer, which avoids a second copy. */
  public void copyTo(ByteBuffer dst, int index) {
    if (value != null) {
      dst.put(index, value, 0, value.length);
    }
  }

  /** The value read as CK_ULONG. */
  public long asUlong() {
    requireValue();
    ByteBuffer b = ByteBuffer.wrap(value).order(Platform.ORDER);
    if (value.length == 8) {
      return b.getLong();
    }
    if (value.length == 4) {
      return b.getInt() & 0xFFFFFFFFL;
    }
    throw new IllegalStateException("attribute 0x" + Long.toHexString(type) + " is not a CK_ULONG (" + value.length + " bytes)");
  }

  /** The value read as CK_BBOOL. */
  public boolean asBool() {
    requireValue();
    if (value.length != 1) {
      throw new IllegalStateException("attribute 0x" + Long.toHexString(type) + " is not a CK_BBOOL");
    }
    return value[0] != 0;
  }

  /** The value read as UTF-8. */
  public String asString() {
    requireValue();
    return new String(value, StandardCharsets.UTF_8);
  }

  private void requireValue() {
    if (value == null) {
      throw new IllegalStateException("attribute 0x" + Long.toHexString(type) + " has no value");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attribute a && a.type == type && Arrays.equals(a.value, value);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(type) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    String v = value == null ? "<none>" : secret ? "<" + value.length + " secret bytes>" : HexFormat.of().formatHex(value);
    return "Attribute[0x" + Long.toHexString(type) + "=" + v + "]";
  }
}
