package io.hsmkit.pkcs11.internal.jna;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.hsmkit.pkcs11.raw.Platform;
import java.nio.ByteBuffer;

/**
 * A per-thread native scratch buffer for one PKCS#11 call at a time.
 *
 * <p>Every call sizes what it needs up front ({@link #begin}), carves its arguments out of one
 * block with a bump pointer, and {@link #end}s by zeroing every byte it used, so plaintext, key
 * values and PINs do not outlive the call in native memory. Reusing one block per thread avoids a
 * malloc/free pair per call, and copying through a direct {@link ByteBuffer} view avoids a JNI call
 * per copy: together they are what makes JNA's direct mapping reach C speed.
 *
 * <p>Bounds: one call may use at most {@link #MAX_CALL_BYTES}; a block grown beyond
 * {@link #KEEP_BYTES} for a large call is freed at its end rather than kept by the thread.
 */
final class Arena {
  /** The most native memory one call may take: larger inputs are refused before any native call. */
  static final int MAX_CALL_BYTES = 256 << 20;

  /** A thread keeps at most this much between calls. */
  static final int KEEP_BYTES = 1 << 20;

  private static final int INITIAL_BYTES = 16 << 10;
  private static final int ALIGN = 16;
  private static final byte[] ZEROS = new byte[4096];
  private static final ThreadLocal<Arena> LOCAL = ThreadLocal.withInitial(Arena::new);

  private Memory memory;
  private ByteBuffer buf;
  private long base;
  private int capacity;
  private int used;
  private boolean busy;

  private Arena() {
    allocate(INITIAL_BYTES);
  }

  /** This thread's arena, ready for a call needing at most {@code bytes} (already aligned pieces). */
  static Arena begin(long bytes) {
    if (bytes < 0 || bytes > MAX_CALL_BYTES) {
      throw new IllegalArgumentException("a PKCS#11 call may use at most " + MAX_CALL_BYTES + " bytes of native memory, this one needs " + bytes);
    }
    Arena a = LOCAL.get();
    if (a.busy) {
      // Never happens on the binding's own paths; a second arena keeps a re-entrant caller safe.
      a = new Arena();
    }
    a.busy = true;
    a.used = 0;
    if (a.capacity < bytes) {
      a.allocate((int) Math.max(bytes, Math.min((long) a.capacity * 2, MAX_CALL_BYTES)));
    }
    return a;
  }

  /** Room for {@code len} bytes rounded up for alignment: how callers size {@link #begin}. */
  static long room(long len) {
    return (len + ALIGN - 1) & ~(long) (ALIGN - 1);
  }

  private void allocate(int size) {
    if (memory != null) {
      memory.close();
    }
    memory = new Memory(size);
    // malloc'd memory is not zeroed: a structure whose unset fields held old heap bytes once made
    // SoftHSM2 call a garbage mutex pointer from C_Initialize. Every call starts from zeros.
    memory.clear();
    base = Pointer.nativeValue(memory);
    buf = memory.getByteBuffer(0, size).order(Platform.ORDER);
    capacity = size;
  }

  /** Reserves {@code len} bytes and returns their native address (0 for len 0 is never returned). */
  long alloc(long len) {
    int off = used;
    int next = (int) (off + room(Math.max(len, 1)));
    if (next > capacity) {
      throw new IllegalStateException("arena overflow: the call under-sized begin()");
    }
    used = next;
    return base + off;
  }

  /** Reserves room for {@code len} bytes and copies {@code src[off..off+len)} there. */
  long put(byte[] src, int off, int len) {
    long p = alloc(len);
    buf.put((int) (p - base), src, off, len);
    return p;
  }

  /** Reserves one CK_ULONG set to {@code v}. */
  long ulong(long v) {
    long p = alloc(Platform.ULONG_SIZE);
    putUlong(p, v);
    return p;
  }

  void putUlong(long addr, long v) {
    int i = (int) (addr - base);
    if (Platform.ULONG_SIZE == 8) {
      buf.putLong(i, v);
    } else {
      buf.putInt(i, (int) v);
    }
  }

  long getUlong(long addr) {
    int i = (int) (addr - base);
    return Platform.ULONG_SIZE == 8 ? buf.getLong(i) : buf.getInt(i) & 0xFFFFFFFFL;
  }

  void putPointer(long addr, long v) {
    int i = (int) (addr - base);
    if (Platform.POINTER_SIZE == 8) {
      buf.putLong(i, v);
    } else {
      buf.putInt(i, (int) v);
    }
  }

  long getPointer(long addr) {
    int i = (int) (addr - base);
    return Platform.POINTER_SIZE == 8 ? buf.getLong(i) : buf.getInt(i) & 0xFFFFFFFFL;
  }

  void putByte(long addr, byte v) {
    buf.put((int) (addr - base), v);
  }

  byte getByte(long addr) {
    return buf.get((int) (addr - base));
  }

  void copyIn(long addr, byte[] src, int off, int len) {
    buf.put((int) (addr - base), src, off, len);
  }

  void copyOut(long addr, byte[] dst, int off, int len) {
    buf.get((int) (addr - base), dst, off, len);
  }

  byte[] read(long addr, int len) {
    byte[] b = new byte[len];
    copyOut(addr, b, 0, len);
    return b;
  }

  /** A view of the buffer for bulk copies (absolute indices: address minus {@link #base()}). */
  ByteBuffer buffer() {
    return buf;
  }

  long base() {
    return base;
  }

  /** Zeroes every byte this call used and hands the arena back to its thread. */
  void end() {
    int n = used;
    for (int i = 0; i < n; i += ZEROS.length) {
      buf.put(i, ZEROS, 0, Math.min(ZEROS.length, n - i));
    }
    used = 0;
    busy = false;
    if (capacity > KEEP_BYTES) {
      allocate(INITIAL_BYTES);
    }
  }
}
