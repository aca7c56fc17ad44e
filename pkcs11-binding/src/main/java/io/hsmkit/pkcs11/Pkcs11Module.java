package io.hsmkit.pkcs11;

import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.internal.jna.JnaPkcs11;
import io.hsmkit.pkcs11.raw.Info;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.TokenInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A PKCS#11 library, loaded and initialised once per path in this JVM.
 *
 * <p>{@link #open(String)} loads the library (taking its function table from C_GetInterface or
 * C_GetFunctionList) and calls C_Initialize with CKF_OS_LOCKING_OK. When another user in the same
 * process initialised it first (SunPKCS11, say), CKR_CRYPTOKI_ALREADY_INITIALIZED counts as success
 * and this module will never call C_Finalize: a finalize would pull the library out from under
 * the other user.
 *
 * <p>Modules are shared: opening the same path twice gives two handles on one loaded library; the
 * last {@link #close()} finalizes it if, and only if, this class initialised it.
 */
public final class Pkcs11Module implements AutoCloseable {
  private static final Map<String, Shared> LOADED = new HashMap<>();

  private static final class Shared {
    final Pkcs11 raw;
    int refs;
    boolean ownsInitialize;

    Shared(Pkcs11 raw) {
      this.raw = raw;
    }
  }

  private final String key;
  private final Shared shared;
  private boolean closed;

  private Pkcs11Module(String key, Shared shared) {
    this.key = key;
    this.shared = shared;
  }

  /** Loads and initialises the library at {@code libraryPath}. */
  public static Pkcs11Module open(String libraryPath) {
    Path p = Path.of(libraryPath);
    if (!Files.exists(p)) {
      throw new IllegalArgumentException("no PKCS#11 library at " + libraryPath
          + " (for SoftHSM2 run softhsm-config/install.sh, or apt-get install softhsm2)");
    }
    String key;
    try {
      key = p.toRealPath().toString();
    } catch (IOException e) {
      key = p.toAbsolutePath().normalize().toString();
    }
    synchronized (LOADED) {
      Shared s = LOADED.get(key);
      if (s == null) {
        s = new Shared(JnaPkcs11.load(libraryPath));
        s.ownsInitialize = initialize(s.raw);
        LOADED.put(key, s);
      }
      s.refs++;
      return new Pkcs11Module(key, s);
    }
  }

  /** C_Initialize; returns false when someone in this process had already initialised the library. */
  private static boolean initialize(Pkcs11 raw) {
    try {
      raw.C_Initialize(CKF.OS_LOCKING_OK);
      return true;
    } catch (Pkcs11Exception e) {
      if (e.is(CKR.CRYPTOKI_ALREADY_INITIALIZED)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Initialises the library again after it was finalized underneath us (a library or HSM restart
   * makes every call answer CKR_CRYPTOKI_NOT_INITIALIZED). Safe to call when it is initialised.
   */
  public void reinitialize() {
    synchronized (LOADED) {
      boolean owns = initialize(shared.raw);
      shared.ownsInitialize |= owns;
    }
  }

  /** Every PKCS#11 function, typed. */
  public Pkcs11 raw() {
    return shared.raw;
  }

  public String libraryPath() {
    return key;
  }

  /**
   * How the data calls reach the library: {@code "jni"} (the binding's JNI fast path, one crossing
   * per operation on the caller's arrays) or {@code "jna (why)"} (the fallback, and why).
   */
  public String dataPath() {
    return shared.raw instanceof JnaPkcs11 j ? j.fastPath() : "jna";
  }

  public Info info() {
    return shared.raw.C_GetInfo();
  }

  /** Slots, with or without a token present. */
  public List<Slot> slots(boolean tokenPresent) {
    List<Slot> out = new ArrayList<>();
    for (long id : shared.raw.C_GetSlotList(tokenPresent)) {
      out.add(new Slot(this, id));
    }
    return out;
  }

  public Slot slot(long slotId) {
    return new Slot(this, slotId);
  }

  /** The slot whose token has {@code label} (labels compare after removing their blank padding). */
  public Optional<Slot> slotByTokenLabel(String label) {
    for (long id : shared.raw.C_GetSlotList(true)) {
      TokenInfo t;
      try {
        t = shared.raw.C_GetTokenInfo(id);
      } catch (Pkcs11Exception e) {
        if (e.isAny(CKR.TOKEN_NOT_PRESENT, CKR.TOKEN_NOT_RECOGNIZED, CKR.SLOT_ID_INVALID, CKR.DEVICE_REMOVED)) {
          continue; // removed between the two calls
        }
        throw e;
      }
      if (t.label().equals(label.strip())) {
        return Optional.of(new Slot(this, id));
      }
    }
    return Optional.empty();
  }

  /** The slot at {@code index} in the list of slots with a token (SunPKCS11's slotListIndex). */
  public Slot slotByIndex(int index) {
    long[] ids = shared.raw.C_GetSlotList(true);
    if (index < 0 || index >= ids.length) {
      throw new IllegalArgumentException("slotListIndex " + index + " is out of range: " + ids.length + " slots have a token");
    }
    return new Slot(this, ids[index]);
  }

  /** Releases this handle; the last one finalizes the library if this class initialised it. */
  @Override
  public void close() {
    synchronized (LOADED) {
      if (closed) {
        return;
      }
      closed = true;
      if (--shared.refs == 0) {
        LOADED.remove(key);
        if (shared.ownsInitialize) {
          try {
            shared.raw.C_Finalize();
          } catch (Pkcs11Exception e) {
            if (!e.is(CKR.CRYPTOKI_NOT_INITIALIZED)) {
              throw e;
            }
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return "Pkcs11Module[" + key + "]";
  }
}
