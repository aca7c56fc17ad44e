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
 * values and PINs do not outlive the call in native memory. The one exception is a region the call
 * marked {@linkplain #markPublic public} (ciphertext, a signature or MAC): it is left as it is,
 * because zeroing 64 KiB of ciphertext cost about 2 us per call, 3% of a 64 KiB AES-GCM operation.
 * What such regions leave behind is tracked as a dirty range, and {@link #alloc} zeroes it before
 * it hands any of it out again, so every structure still starts from zeros (a structure whose unset
 * fields held old bytes once made SoftHSM2 call a garbage mutex pointer from C_Initialize). Only
 * {@link #allocRaw} and {@link #put}, whose bytes are all written before they are read, skip that. Reusing one block per thread avoids a
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
  /** Offsets [dirtyLo, dirtyHi) may hold public bytes left by earlier calls; everything else past {@link #used} is zero. */
  private int dirtyLo;
  private int dirtyHi;
  /** This call's public region [pubLo, pubHi), or pubLo &lt; 0 for none. */
  private int pubLo = -1;
  private int pubHi;

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
    dirtyLo = 0;
    dirtyHi = 0;
    base = Pointer.nativeValue(memory);
    buf = memory.getByteBuffer(0, size).order(Platform.ORDER);
    capacity = size;
  }

  /** Reserves {@code len} zeroed bytes and returns their native address (0 for len 0 is never returned). */
  long alloc(long len) {
    int off = used;
    long p = allocRaw(len);
    if (off < dirtyHi && used > dirtyLo) {
      // Only the new region's overlap: earlier regions of this call may already hold its arguments.
      zero(Math.max(off, dirtyLo), Math.min(used, dirtyHi));
    }
    return p;
  }

  /**
   * Reserves {@code len} bytes that may hold public leftovers of earlier calls: only for data the
   * call writes in full before anything reads it, and for output buffers of which only what the
   * library reports as written is read.
   */
  long allocRaw(long len) {
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
    long p = allocRaw(len);
    buf.put((int) (p - base), src, off, len);
    return p;
  }

  /**
   * Marks the {@code len} bytes at {@code addr} (one region, the last one this call reserved or any
   * other) as public: {@link #end} leaves them as they are. Only for what anyone may see: ciphertext
   * and signatures or MACs, never plaintext, keys, PINs or random bytes.
   */
  void markPublic(long addr, long len) {
    pubLo = (int) (addr - base);
    pubHi = (int) (pubLo + room(Math.max(len, 1)));
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

  /** Zeroes offsets [from, to): large ranges with one memset (about twice as fast as copying zeros in). */
  private void zero(int from, int to) {
    int n = to - from;
    if (n >= 4096) {
      memory.setMemory(from, n, (byte) 0);
      return;
    }
    for (int i = from; i < to; i += ZEROS.length) {
      buf.put(i, ZEROS, 0, Math.min(ZEROS.length, to - i));
    }
  }

  /** Zeroes every byte this call used, except its public region, and hands the arena back to its thread. */
  void end() {
    int n = used;
    if (pubLo >= 0) {
      zero(0, pubLo);
      zero(pubHi, n);
      if (dirtyLo < dirtyHi) {
        dirtyLo = Math.min(dirtyLo, pubLo);
        dirtyHi = Math.max(dirtyHi, pubHi);
      } else {
        dirtyLo = pubLo;
        dirtyHi = pubHi;
      }
      pubLo = -1;
    } else {
      zero(0, n);
      if (dirtyHi <= n) {
        dirtyLo = 0;
        dirtyHi = 0;
      }
    }
    used = 0;
    busy = false;
    if (capacity > KEEP_BYTES) {
      allocate(INITIAL_BYTES);
    }
  }
}
