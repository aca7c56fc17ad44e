package io.hsmkit.pkcs11.internal.jna;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * The binding's JNI fast path ({@code src/main/c/hsmkit_jni.c}): an init call and the single-part
 * call that follows it in one crossing, on the caller's Java arrays.
 *
 * <p>Why: JNA's direct mapping costs about 230 ns a call and copies every {@code byte[]} through
 * native memory. A one-shot operation through JNA is two crossings and two copies; here it is one
 * crossing, a memcpy each way for data up to {@value #STACK_BYTES} bytes, and no copy at all for
 * larger data (the array is pinned, as SunPKCS11 does). {@link JnaPkcs11} uses it when
 * {@link #AVAILABLE} and keeps its JNA path for everything else and as the fallback.
 *
 * <p>The library ships inside the binding's jar for Linux x86-64 only. It is extracted to a private
 * temporary file, loaded with {@link System#load} and the file deleted at once (the mapping stays).
 * Each class loader that loads this class loads its own copy, so two web applications that each
 * bundle the binding do not collide. If anything fails (another platform, no resource, a
 * read-only temporary directory), {@link #AVAILABLE} is false and {@link #why()} says why; the
 * binding then runs on JNA alone. {@code -Dhsmkit.jni=false} turns the fast path off.
 *
 * <p>Contract for callers: every offset and length has been checked against its array, every
 * function address comes from the loaded library's table, and {@code mechanism} and
 * {@code scratch} point into native memory the caller owns for the call ({@code scratch}: two
 * CK_ULONGs). The native side trusts all of that.
 */
final class JniCalls {
  private JniCalls() {}

  /** Keep in step with hsmkit_jni.c. */
  static final int F_INIT = 1;
  static final int F_NO_KEY = 2;
  static final int F_SECRET_A = 4;
  static final int F_SECRET_B = 8;
  static final int F_OUT_ONLY = 16;
  static final int F_WRITES_A = 32;
  /** Pin the arrays whatever their size (only for quick symmetric mechanisms: see JnaPkcs11#quick). */
  static final int F_PIN = 64;

  /** Data up to this many bytes is copied through the C stack; larger arrays are pinned. */
  static final int STACK_BYTES = 4096;

  /** The resource, relative to this class. */
  static final String RESOURCE = "linux-x86-64/libhsmkit-jni.so";

  static final boolean AVAILABLE;
  private static final String WHY;

  static {
    String why = load();
    AVAILABLE = why == null;
    WHY = why == null ? "loaded" : why;
  }

  /** Why the fast path is off, or "loaded". */
  static String why() {
    return WHY;
  }

  /**
   * {@code [fInit(session, mechanism[, key])]} then {@code fData(session, in, inLen, out, &len)}
   * (or {@code fData(session, out, &len)} with {@link #F_OUT_ONLY}). {@code scratch[0]}: the output
   * capacity in, the reported length out; {@code scratch[1]}: 1 once the init call succeeded.
   * Returns the CK_RV of the last call made.
   */
  static native long inOut(long fInit, long fData, long session, long mechanism, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen, long scratch, int flags);

  /** {@code [fInit(...)]} then {@code fData(session, a, aLen, b, bLen)}: C_VerifyInit + C_Verify. {@code scratch} may be 0 without {@link #F_INIT}. */
  static native long twoIn(long fInit, long fData, long session, long mechanism, long key, byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen, long scratch, int flags);

  /** {@code f(session, a, aLen)}: one input buffer, or with {@link #F_WRITES_A} one output buffer. */
  static native long oneBuf(long f, long session, byte[] a, int aOff, int aLen, int flags);

  private static native int abiVersion();

  /** Loads the library; null when loaded, otherwise the reason it is not. */
  private static String load() {
    if (!Boolean.parseBoolean(System.getProperty("hsmkit.jni", "true"))) {
      return "turned off by -Dhsmkit.jni=false";
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return "no fast-path library for " + os + "/" + arch;
    }
    Path tmp = null;
    try (InputStream in = JniCalls.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "the binding jar has no " + RESOURCE;
      }
      tmp = Files.createTempFile("hsmkit-jni-", ".so", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.write(tmp, in.readAllBytes());
      System.load(tmp.toAbsolutePath().toString());
      int abi = abiVersion();
      if (abi != 1008) {
        return "the fast-path library reports ABI " + abi + ", expected 1008";
      }
      return null;
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      // RuntimeException: a temporary directory without POSIX permissions, a security manager.
      // Any of these means JNA for everything, never a binding that cannot load.
      return "cannot load the fast-path library: " + e;
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp); // mapped already; nothing else needs the file
        } catch (IOException ignored) {
          // left in the temporary directory; harmless
        }
      }
    }
  }
}
