package io.hsmkit.provider.spi;

import java.util.Arrays;

/**
 * A growable byte buffer for data that a signature or MAC sends to the token in one piece; its
 * array is handed to the binding with an offset and length, so nothing is copied at the end.
 * {@link #clear()} wipes what was written (the data may be a secret the caller MACs).
 */
final class SignatureBuffer implements Cloneable {
  private byte[] data;
  private int size;

  SignatureBuffer(int initial) {
    data = new byte[initial];
  }

  void append(byte b) {
    ensure(1);
    data[size++] = b;
  }

  void append(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, data, size, len);
    size += len;
  }

  private void ensure(int more) {
    int need = size + more;
    if (need < 0 || need > Integer.MAX_VALUE - 16) {
      throw new OutOfMemoryError("more than 2 GiB of data for one signature");
    }
    if (need > data.length) {
      data = Arrays.copyOf(data, Math.max(need, Math.min(Integer.MAX_VALUE - 16, data.length * 2 + 64)));
    }
  }

  /** The backing array (valid for {@link #size()} bytes, until the next append). */
  byte[] array() {
    return data;
  }

  int size() {
    return size;
  }

  /**
   * Wipes the bytes written and forgets them. The array is kept for the next message (growing it
   * again for every message cost a third of a 64 KiB HMAC), unless it grew past
   * {@link #KEEP_AT_MOST} for a long EdDSA message.
   */
  void clear() {
    Arrays.fill(data, 0, size, (byte) 0);
    size = 0;
    if (data.length > KEEP_AT_MOST) {
      data = new byte[256];
    }
  }

  /** The largest array kept between messages: room for everything buffered before streaming. */
  static final int KEEP_AT_MOST = 2 * SignatureSupport.STREAM_AFTER + 64;

  @Override
  public SignatureBuffer clone() {
    try {
      SignatureBuffer c = (SignatureBuffer) super.clone();
      c.data = data.clone();
      return c;
    } catch (CloneNotSupportedException e) {
      throw new AssertionError(e);
    }
  }
}
