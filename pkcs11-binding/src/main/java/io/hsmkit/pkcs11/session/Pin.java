package io.hsmkit.pkcs11.session;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A PIN held in a char array that {@link #close()} wipes. Never printed.
 *
 * <p>The pool keeps one for as long as it may need to log in again (after a token or library
 * restart); everyone else should close theirs right after use.
 */
public final class Pin implements AutoCloseable {
  private final char[] chars;
  private volatile boolean wiped;

  private Pin(char[] chars) {
    this.chars = chars;
  }

  /** Copies {@code pin}; the caller still owns, and should wipe, its array. */
  public static Pin of(char[] pin) {
    return new Pin(pin.clone());
  }

  /** The PIN in environment variable {@code name}. */
  public static Pin fromEnv(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("environment variable " + name + " holds no PIN");
    }
    return new Pin(v.toCharArray());
  }

  /** The PIN in the first line of {@code file} (UTF-8, trailing newline removed). */
  public static Pin fromFile(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    try {
      int n = b.length;
      while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
        n--;
      }
      for (int i = 0; i < n; i++) {
        if (b[i] == '\n') {
          n = i;
          break;
        }
      }
      CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(b, 0, n));
      char[] c = new char[cb.remaining()];
      cb.get(c);
      if (cb.hasArray()) {
        Arrays.fill(cb.array(), '\0');
      }
      if (c.length == 0) {
        throw new IllegalArgumentException(file + " holds no PIN");
      }
      return new Pin(c);
    } finally {
      Arrays.fill(b, (byte) 0);
    }
  }

  /** The PIN's characters, not a copy: pass them straight to a login and do not keep them. */
  public char[] chars() {
    if (wiped) {
      throw new IllegalStateException("the PIN was wiped");
    }
    return chars;
  }

  @Override
  public void close() {
    wiped = true;
    Arrays.fill(chars, '\0');
  }

  @Override
  public String toString() {
    return "Pin[***]";
  }
}
