package io.hsmkit.bench;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The C side, libhsmbench.so (src/main/c/hsmbench.c), by JNA direct mapping.
 *
 * <p>The library is the file named by the system property {@code hsmkit.bench.native} when it is
 * set, else the copy that the build puts on the class path ({@code linux-x86-64/libhsmbench.so},
 * inside benchmarks.jar too), which JNA extracts and loads. The C loop is entered once per batch,
 * so how this class calls it does not show in the figures.
 */
final class HsmBenchNative {
  /** Strongly held: JNA must not unload the library while the natives are bound to it. */
  static final NativeLibrary LIBRARY;

  static {
    String path = System.getProperty("hsmkit.bench.native");
    LIBRARY = NativeLibrary.getInstance(path != null && !path.isBlank() ? path : "hsmbench");
    Native.register(HsmBenchNative.class, LIBRARY);
  }

  private HsmBenchNative() {}

  /** 0, or the CK_RV (-1 for dlopen) of the step that failed; see {@link #hsmbench_last_error()}. */
  static native int hsmbench_setup(String library, long slot, String pin);

  /** Nanoseconds for {@code iterations} operations of {@code op}, or -CK_RV of the first failure. */
  static native long hsmbench_run(int op, long iterations);

  /** 1 when the C side's C_Initialize found the library initialised already (by the binding). */
  static native int hsmbench_shared_init();

  static native String hsmbench_last_error();

  static native void hsmbench_teardown();
}
