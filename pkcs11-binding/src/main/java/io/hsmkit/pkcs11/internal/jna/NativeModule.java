package io.hsmkit.pkcs11.internal.jna;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.SymbolProvider;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Platform;
import io.hsmkit.pkcs11.raw.Version;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.util.HashMap;
import java.util.Map;

/**
 * One loaded PKCS#11 library: its function table and a {@link Cryptoki} bound to it.
 *
 * <p>The table comes from {@code C_GetInterface} when the library exports it (v3.0) and from
 * {@code C_GetFunctionList} otherwise, so libraries that export nothing but the table work. The
 * addresses in the table are handed to JNA through {@link Library#OPTION_SYMBOL_PROVIDER}, so every
 * call goes straight to the function the library chose, by direct mapping.
 *
 * <p>Direct mapping binds natives per class; each module therefore gets its own hidden copy of
 * {@link Direct}. The {@link NativeLibrary} objects are kept here, strongly referenced, for as long
 * as the module lives: if JNA unloaded the library under a bound class the JVM would crash.
 */
final class NativeModule {
  private final String path;
  private final NativeLibrary plain;
  private final NativeLibrary bound;
  private final Cryptoki calls;
  private final Version tableVersion;
  private final boolean[] present = new boolean[FunctionTable.V3_COUNT];
  /** The table's function addresses by FunctionTable index (0 where absent), for {@link JniCalls}. */
  private final long[] address = new long[FunctionTable.V3_COUNT];
  private final boolean viaGetInterface;

  private NativeModule(String path) {
    this.path = path;
    try {
      this.plain = NativeLibrary.getInstance(path);
    } catch (UnsatisfiedLinkError e) {
      String why = String.valueOf(e.getMessage()).lines().skip(1).findFirst().orElse(String.valueOf(e.getMessage()));
      throw new IllegalArgumentException("cannot load the PKCS#11 library " + path + ": " + why, e);
    }
    long table;
    boolean v3 = false;
    long fromInterface = functionListFromInterface(plain);
    if (fromInterface != 0) {
      table = fromInterface;
      v3 = true;
    } else {
      table = functionListFromGetFunctionList(plain);
    }
    Pointer t = new Pointer(table);
    this.tableVersion = new Version(t.getByte(0) & 0xFF, t.getByte(1) & 0xFF);
    int count = tableVersion.major() >= 3 ? FunctionTable.V3_COUNT : FunctionTable.V2_COUNT;
    this.viaGetInterface = v3;
    int first = Platform.WINDOWS ? 2 : Platform.POINTER_SIZE; // CK_VERSION, then pointer-aligned entries
    Map<String, Long> addresses = new HashMap<>();
    long fallback = 0;
    for (int i = 0; i < count; i++) {
      long fn = Pointer.nativeValue(t.getPointer(first + (long) i * Platform.POINTER_SIZE));
      if (fn != 0) {
        present[i] = true;
        address[i] = fn;
        addresses.put(FunctionTable.NAMES.get(i), fn);
        if (fallback == 0) {
          fallback = fn;
        }
      }
    }
    if (!present[FunctionTable.index("C_Initialize")]) {
      throw new IllegalStateException(path + ": the function table has no C_Initialize");
    }
    // Functions the library leaves out are bound to a placeholder address that is never called:
    // JnaPkcs11 checks present() first and answers CKR_FUNCTION_NOT_SUPPORTED itself.
    final long placeholder = fallback;
    SymbolProvider provider =
        (handle, name, parent) -> {
          String c = name.startsWith("n_") ? name.substring(2) : name;
          Long a = addresses.get(c);
          if (a != null) {
            return a;
          }
          if (FunctionTable.NAMES.contains(c)) {
            return placeholder;
          }
          return parent.getSymbolAddress(handle, name, null);
        };
    Map<String, Object> options = new HashMap<>();
    options.put(Library.OPTION_SYMBOL_PROVIDER, provider);
    this.bound = NativeLibrary.getInstance(path, options);
    this.calls = bindCopy(bound);
  }

  /** Loads {@code path} and binds its function table. */
  static NativeModule load(String path) {
    if (Native.LONG_SIZE != Platform.ULONG_SIZE) {
      throw new IllegalStateException("JNA's C long is " + Native.LONG_SIZE + " bytes, the binding expected " + Platform.ULONG_SIZE);
    }
    return new NativeModule(path);
  }

  private static long functionListFromInterface(NativeLibrary lib) {
    Function getInterface;
    try {
      getInterface = lib.getFunction("C_GetInterface");
    } catch (UnsatisfiedLinkError e) {
      return 0; // a v2.x library
    }
    try (Memory out = new Memory(Platform.POINTER_SIZE)) {
      out.setPointer(0, null);
      // NULL name and version ask for the library's default interface ("PKCS 11", newest version).
      long rv = Platform.ulong(getInterface.invokeLong(new Object[] {null, null, out, nativeULong(0)}));
      Pointer iface = out.getPointer(0);
      if (rv != CKR.OK || iface == null) {
        return 0;
      }
      Pointer list = iface.getPointer(Layouts.CK_INTERFACE.offset("pFunctionList"));
      return list == null ? 0 : Pointer.nativeValue(list);
    }
  }

  private static long functionListFromGetFunctionList(NativeLibrary lib) {
    Function getFunctionList;
    try {
      getFunctionList = lib.getFunction("C_GetFunctionList");
    } catch (UnsatisfiedLinkError e) {
      throw new IllegalArgumentException(lib.getFile() + " is not a PKCS#11 library: it exports neither C_GetInterface nor C_GetFunctionList", e);
    }
    try (Memory out = new Memory(Platform.POINTER_SIZE)) {
      out.setPointer(0, null);
      long rv = Platform.ulong(getFunctionList.invokeLong(new Object[] {out}));
      if (rv != CKR.OK) {
        throw new Pkcs11Exception("C_GetFunctionList", rv);
      }
      Pointer list = out.getPointer(0);
      if (list == null) {
        throw new IllegalStateException(lib.getFile() + ": C_GetFunctionList returned no table");
      }
      return Pointer.nativeValue(list);
    }
  }

  private static Object nativeULong(long v) {
    return Platform.ULONG_SIZE == 8 ? (Object) v : (Object) (int) v;
  }

  private static Cryptoki bindCopy(NativeLibrary lib) {
    byte[] bytes;
    try (InputStream in = Direct.class.getResourceAsStream("Direct.class")) {
      if (in == null) {
        throw new IllegalStateException("Direct.class is not on the class path");
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read Direct.class", e);
    }
    try {
      // A hidden class lives in this package and module, so it may implement Cryptoki without the
      // internal package being exported, and several copies can coexist: one per library.
      MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
      Class<?> copy = lookup.lookupClass();
      Native.register(copy, lib);
      return (Cryptoki) copy.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot bind " + lib.getFile(), e);
    }
  }

  Cryptoki calls() {
    return calls;
  }

  String path() {
    return path;
  }

  Version tableVersion() {
    return tableVersion;
  }

  boolean viaGetInterface() {
    return viaGetInterface;
  }

  /** The address of the function at FunctionTable index {@code i}; 0 when the table has none. */
  long address(int i) {
    return i < address.length ? address[i] : 0;
  }

  /** Whether the library's table has a function at FunctionTable index {@code i}. */
  boolean present(int i) {
    return i < present.length && present[i];
  }
}
