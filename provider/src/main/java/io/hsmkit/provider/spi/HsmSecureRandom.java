package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import java.security.SecureRandomParameters;
import java.security.SecureRandomSpi;
import java.util.Arrays;

/**
 * SecureRandom whose bytes come from the token's C_GenerateRandom (thread-safe).
 *
 * <p><b>Small requests are buffered.</b> A request of at most {@link #SMALL} bytes is served from
 * a per-instance buffer that one C_GenerateRandom fills; every byte handed out is zeroed in the
 * buffer at once, so the buffer never holds output that was already given to a caller, and no
 * byte is handed out twice. Why: one native call (a JNA crossing, a pool borrow and SoftHSM2's own
 * per-call work) costs several times what 32 random bytes cost, so the unbuffered path could not
 * keep up with SunPKCS11, which also buffers small requests. The first refill of an instance
 * fetches {@link #FIRST} bytes (or the request, if larger), and each later refill twice the last,
 * up to {@link #BUFFER}: an instance made for one request (as the KMS service does per call) costs
 * one small call, as before, and an instance in steady use one call per {@link #BUFFER} bytes.
 * Larger requests, and {@code generateSeed}, go straight to the token with one C_GenerateRandom
 * each, as before. The cost: up to {@link #BUFFER} bytes of future output sit in the JVM heap until
 * used.
 *
 * <p><b>Seeds.</b> {@code setSeed} mixes the seed into the token's generator with C_SeedRandom
 * where the token allows it (otherwise it is ignored: the token's generator seeds itself), and
 * discards (wipes) what is buffered, so that every byte handed out afterwards was generated after
 * the seed went in.
 */
public final class HsmSecureRandom extends SecureRandomSpi {
  private static final long serialVersionUID = 1L;

  /** Bytes fetched by an instance's first refill (at least; a larger request gets its size). */
  static final int FIRST = 64;
  /** The most bytes fetched per refill, once an instance is in steady use. */
  static final int BUFFER = 1024;
  /** Requests up to this size are served from the buffer; larger ones go straight to the token. */
  static final int SMALL = 256;

  private final transient TokenContext token;
  /** Guards {@link #buffer} and {@link #next}; never held across a call other than the refill. */
  private final transient Object lock = new Object();
  /** Random bytes from {@link #next} on; the bytes before it were handed out and are zero. */
  private transient byte[] buffer;
  private transient int next;

  public HsmSecureRandom(TokenContext token) {
    super((SecureRandomParameters) null);
    this.token = token;
  }

  @Override
  protected void engineSetSeed(byte[] seed) {
    try {
      token.execute(s -> {
        s.raw().C_SeedRandom(s.handle(), seed, 0, seed.length);
        return null;
      });
    } catch (Pkcs11Exception e) {
      // CKR_RANDOM_SEED_NOT_SUPPORTED and the like: the token's generator seeds itself.
    }
    synchronized (lock) {
      if (buffer != null) {
        Arrays.fill(buffer, (byte) 0);
        next = buffer.length;
      }
    }
  }

  @Override
  protected void engineNextBytes(byte[] bytes) {
    int n = bytes.length;
    if (n == 0) {
      return;
    }
    if (n > SMALL) {
      fromToken(bytes);
      return;
    }
    synchronized (lock) {
      byte[] b = buffer;
      int have = b == null ? 0 : b.length - next;
      int done = 0;
      if (have < n) {
        // Hand out what is left first, so no fetched byte is wasted, then refill for the rest.
        if (have > 0) {
          take(bytes, 0, have);
          done = have;
        }
        int size = Math.max(n - done, b == null ? FIRST : Math.min(BUFFER, 2 * b.length));
        if (b == null || b.length != size) {
          b = buffer = new byte[size]; // the old array was handed out in full, and so is all zeros
        }
        next = size; // nothing to hand out if the refill fails
        fromToken(b);
        next = 0;
      }
      take(bytes, done, n - done);
    }
  }

  /** Copies {@code len} buffered bytes into {@code out} at {@code off} and zeroes them in the buffer. */
  private void take(byte[] out, int off, int len) {
    System.arraycopy(buffer, next, out, off, len);
    Arrays.fill(buffer, next, next + len, (byte) 0);
    next += len;
  }

  private void fromToken(byte[] bytes) {
    try {
      token.execute(s -> {
        s.generateRandom(bytes);
        return null;
      });
    } catch (Pkcs11Exception e) {
      throw Errors.provider("C_GenerateRandom", e);
    }
  }

  @Override
  protected byte[] engineGenerateSeed(int numBytes) {
    // Seed material comes fresh from the token, never from the buffer.
    byte[] b = new byte[numBytes];
    if (numBytes > 0) {
      fromToken(b);
    }
    return b;
  }
}
