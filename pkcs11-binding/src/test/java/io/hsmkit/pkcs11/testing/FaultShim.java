package io.hsmkit.pkcs11.testing;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fault-injection shim (src/test/c/p11shim.c, built by the test build into
 * {@code target/native/libp11shim.so}): a PKCS#11 library that forwards every call to the real
 * SoftHSM2 and fails the calls its rules name.
 *
 * <p>Rules, one per {@code ;}: {@code C_Sign:rv=CKR_DEVICE_ERROR:every=3},
 * {@code C_OpenSession:rv=CKR_SESSION_COUNT:once}, {@code C_Encrypt:rv=0xB3:after=2:count=1},
 * {@code absent} (the token is gone until the rule is removed), {@code finalize} (the library is
 * finalized under the client once, as if it restarted).
 */
public final class FaultShim {
  private final NativeLibrary lib;

  private FaultShim(NativeLibrary lib) {
    this.lib = lib;
  }

  /** The shim's path; load it as the PKCS#11 library instead of SoftHSM2's. */
  public static String path() {
    String p = System.getProperty("hsmkit.shim.library", TestToken.buildDir().resolve("native/libp11shim.so").toString());
    if (!Files.exists(Path.of(p))) {
      throw new IllegalStateException("the fault shim " + p + " was not built: run the tests through Maven (it compiles src/test/c/p11shim.c with gcc)");
    }
    return p;
  }

  /** Points the shim at {@code realLibrary} (call before the shim is first loaded) and binds its controls. */
  public static FaultShim forLibrary(String realLibrary) {
    TestToken.setenv("HSMKIT_SHIM_REAL", realLibrary);
    return new FaultShim(NativeLibrary.getInstance(path()));
  }

  /** Replaces the rules; an empty string clears them. */
  public void rules(String rules) {
    lib.getFunction("hsmkit_shim_set_rules").invokeVoid(new Object[] {rules});
  }

  public void clear() {
    rules("");
  }

  /** Sessions the shim saw opened and not closed (C_CloseAllSessions and C_Finalize count). */
  public long openSessions() {
    return lib.getFunction("hsmkit_shim_open_sessions").invokeLong(new Object[0]);
  }

  /** Faults injected so far. */
  public long injected() {
    return lib.getFunction("hsmkit_shim_injected").invokeLong(new Object[0]);
  }

  /** Calls of {@code function} so far ("*" for all). */
  public long calls(String function) {
    Function f = lib.getFunction("hsmkit_shim_calls");
    return f.invokeLong(new Object[] {function});
  }

  public void resetCounters() {
    lib.getFunction("hsmkit_shim_reset_counters").invokeVoid(new Object[0]);
  }
}
