package io.hsmkit.pkcs11.internal.jna;

import io.hsmkit.pkcs11.raw.Platform;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory layout of one PKCS#11 structure on this platform: field offsets and total size.
 *
 * <p>PKCS#11 headers pack structures to 1 byte on Windows and use the compiler's natural alignment
 * elsewhere. Rather than building JNA {@code Structure}s (reflection on every instance), the binding
 * computes each layout once from the field list and reads or writes fields at those offsets in its
 * native buffers. {@code StructLayoutTest} checks every layout against gcc's {@code sizeof} and
 * {@code offsetof} on the PKCS#11 header.
 */
public final class StructLayout {
  /** The C kinds of field that PKCS#11 structures use. */
  public enum Kind {
    /** CK_BYTE, CK_BBOOL, CK_CHAR, CK_UTF8CHAR (times {@code count} for arrays). */
    BYTE,
    /** CK_ULONG and its aliases (CK_FLAGS, CK_SLOT_ID, CK_MECHANISM_TYPE, ...). */
    ULONG,
    /** any pointer, function pointers included. */
    POINTER,
    /** CK_VERSION: two CK_BYTEs. */
    VERSION
  }

  private final String name;
  private final Map<String, Integer> offsets;
  private final int size;

  private StructLayout(String name, Map<String, Integer> offsets, int size) {
    this.name = name;
    this.offsets = offsets;
    this.size = size;
  }

  /** Starts a layout for the C structure {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  public String name() {
    return name;
  }

  /** The structure's size in bytes, trailing padding included. */
  public int size() {
    return size;
  }

  /** The offset of {@code field}. */
  public int offset(String field) {
    Integer o = offsets.get(field);
    if (o == null) {
      throw new IllegalArgumentException(name + " has no field " + field);
    }
    return o;
  }

  /** Field names in declaration order, with their offsets. */
  public Map<String, Integer> offsets() {
    return offsets;
  }

  /** Builds a layout with the current platform's rules. */
  public static final class Builder {
    private final String name;
    private final List<Object[]> fields = new ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder bytes(String field, int count) {
      fields.add(new Object[] {field, Kind.BYTE, count});
      return this;
    }

    public Builder ulong(String field) {
      fields.add(new Object[] {field, Kind.ULONG, 1});
      return this;
    }

    public Builder pointer(String field) {
      fields.add(new Object[] {field, Kind.POINTER, 1});
      return this;
    }

    public Builder version(String field) {
      fields.add(new Object[] {field, Kind.VERSION, 1});
      return this;
    }

    /** Computes the layout: natural alignment, or 1-byte packing on Windows. */
    public StructLayout build() {
      return build(Platform.WINDOWS, Platform.POINTER_SIZE, Platform.ULONG_SIZE);
    }

    /** Computes the layout for an explicit platform (for tests of other platforms' rules). */
    public StructLayout build(boolean packed, int pointerSize, int ulongSize) {
      Map<String, Integer> offsets = new LinkedHashMap<>();
      int offset = 0;
      int maxAlign = 1;
      for (Object[] f : fields) {
        Kind kind = (Kind) f[1];
        int count = (Integer) f[2];
        int size;
        int align;
        switch (kind) {
          case BYTE -> {
            size = count;
            align = 1;
          }
          case ULONG -> {
            size = ulongSize;
            align = ulongSize;
          }
          case POINTER -> {
            size = pointerSize;
            align = pointerSize;
          }
          case VERSION -> {
            size = 2;
            align = 1;
          }
          default -> throw new AssertionError(kind);
        }
        if (packed) {
          align = 1;
        }
        offset = (offset + align - 1) / align * align;
        offsets.put((String) f[0], offset);
        offset += size;
        maxAlign = Math.max(maxAlign, align);
      }
      int total = (offset + maxAlign - 1) / maxAlign * maxAlign;
      return new StructLayout(name, Collections.unmodifiableMap(offsets), total);
    }
  }
}
