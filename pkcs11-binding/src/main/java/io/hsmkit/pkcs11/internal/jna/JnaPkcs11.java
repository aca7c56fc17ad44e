package io.hsmkit.pkcs11.internal.jna;

import static io.hsmkit.pkcs11.internal.jna.Arena.room;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Info;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.Platform;
import io.hsmkit.pkcs11.raw.SessionInfo;
import io.hsmkit.pkcs11.raw.SinglePart;
import io.hsmkit.pkcs11.raw.SlotInfo;
import io.hsmkit.pkcs11.raw.TokenInfo;
import io.hsmkit.pkcs11.raw.Version;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * {@link Pkcs11} over JNA direct mapping: the only production implementation.
 *
 * <p>Each method sizes one {@link Arena} for everything the call needs, lays out its arguments
 * (templates, mechanism structures, buffers) there, makes exactly one native call where PKCS#11
 * allows it, copies the results out and zeroes the arena.
 *
 * <p>Where the JNI fast path is loaded ({@link JniCalls#AVAILABLE}), the data calls (single-part,
 * update, final, random) and {@link #initAndRun}/{@link #initAndVerify} go through it instead: one
 * crossing on the caller's arrays, with the arena holding only the mechanism and two CK_ULONGs.
 * Every other function, and every call when the fast path is off, uses JNA as before.
 */
public final class JnaPkcs11 implements Pkcs11 {
  private static final int ULONG = Platform.ULONG_SIZE;
  private static final int PTR = Platform.POINTER_SIZE;
  private static final long OK = CKR.OK;

  // CKF_OS_LOCKING_OK and friends are passed by the caller; these are the few constants used here.
  private static final long CKR_NO_EVENT = 0x08L;

  private static final int I_ENCRYPT = FunctionTable.index("C_Encrypt");
  private static final int I_ENCRYPT_UPDATE = FunctionTable.index("C_EncryptUpdate");
  private static final int I_DECRYPT = FunctionTable.index("C_Decrypt");
  private static final int I_DECRYPT_UPDATE = FunctionTable.index("C_DecryptUpdate");
  private static final int I_DIGEST = FunctionTable.index("C_Digest");
  private static final int I_SIGN = FunctionTable.index("C_Sign");
  private static final int I_SIGN_RECOVER = FunctionTable.index("C_SignRecover");
  private static final int I_VERIFY_RECOVER = FunctionTable.index("C_VerifyRecover");
  private static final int I_DIGEST_ENCRYPT = FunctionTable.index("C_DigestEncryptUpdate");
  private static final int I_DECRYPT_DIGEST = FunctionTable.index("C_DecryptDigestUpdate");
  private static final int I_SIGN_ENCRYPT = FunctionTable.index("C_SignEncryptUpdate");
  private static final int I_DECRYPT_VERIFY = FunctionTable.index("C_DecryptVerifyUpdate");
  private static final int I_ENCRYPT_FINAL = FunctionTable.index("C_EncryptFinal");
  private static final int I_DECRYPT_FINAL = FunctionTable.index("C_DecryptFinal");
  private static final int I_DIGEST_FINAL = FunctionTable.index("C_DigestFinal");
  private static final int I_SIGN_FINAL = FunctionTable.index("C_SignFinal");
  private static final int I_DIGEST_UPDATE = FunctionTable.index("C_DigestUpdate");
  private static final int I_SIGN_UPDATE = FunctionTable.index("C_SignUpdate");
  private static final int I_VERIFY_UPDATE = FunctionTable.index("C_VerifyUpdate");
  private static final int I_VERIFY_FINAL = FunctionTable.index("C_VerifyFinal");
  private static final int I_SEED_RANDOM = FunctionTable.index("C_SeedRandom");
  private static final int I_ENCRYPT_INIT = FunctionTable.index("C_EncryptInit");
  private static final int I_DECRYPT_INIT = FunctionTable.index("C_DecryptInit");
  private static final int I_SIGN_INIT = FunctionTable.index("C_SignInit");
  private static final int I_VERIFY_INIT = FunctionTable.index("C_VerifyInit");
  private static final int I_SIGN_RECOVER_INIT = FunctionTable.index("C_SignRecoverInit");
  private static final int I_VERIFY_RECOVER_INIT = FunctionTable.index("C_VerifyRecoverInit");
  private static final int I_DIGEST_INIT = FunctionTable.index("C_DigestInit");
  private static final int I_VERIFY = FunctionTable.index("C_Verify");
  private static final int I_GENERATE_RANDOM = FunctionTable.index("C_GenerateRandom");

  /** GCM parameter layout: 0 not yet known, 1 with ulIvBits, 2 without. */
  private volatile int gcmLayout;

  private final NativeModule module;
  private final Cryptoki c;
  /** Whether the data calls use {@link JniCalls}; fixed per instance. */
  private final boolean jni = JniCalls.AVAILABLE;

  private JnaPkcs11(NativeModule module) {
    this.module = module;
    this.c = module.calls();
  }

  /** Loads the PKCS#11 library at {@code path} (not yet initialised). */
  public static JnaPkcs11 load(String path) {
    return new JnaPkcs11(NativeModule.load(Objects.requireNonNull(path, "path")));
  }

  @Override
  public String libraryPath() {
    return module.path();
  }

  /** Whether this instance's data calls take the JNI fast path, or why not. */
  public String fastPath() {
    return jni ? "jni" : "jna (" + JniCalls.why() + ")";
  }

  @Override
  public Version functionTableVersion() {
    return module.tableVersion();
  }

  @Override
  public boolean supports(String name) {
    int i = FunctionTable.NAMES.indexOf(name);
    return i >= 0 && module.present(i);
  }

  // ------------------------------------------------------------------ helpers

  private void need(int index) {
    if (!module.present(index)) {
      throw new Pkcs11Exception(FunctionTable.NAMES.get(index), CKR.FUNCTION_NOT_SUPPORTED, -1, "not in the library's function table");
    }
  }

  private static void check(String fn, long rv) {
    rv = Platform.ulong(rv);
    if (rv != OK) {
      throw new Pkcs11Exception(fn, rv);
    }
  }

  /** Checks an output range; returns what the library may write there (0 for a length query, out == null). */
  private static int outRange(byte[] out, int outOff, int outLen) {
    if (out == null) {
      return 0;
    }
    Objects.checkFromIndexSize(outOff, outLen, out.length);
    return outLen;
  }

  private static String text(Arena a, long addr, int len) {
    byte[] b = a.read(addr, len);
    int end = len;
    while (end > 0 && (b[end - 1] == ' ' || b[end - 1] == 0)) {
      end--;
    }
    return new String(b, 0, end, StandardCharsets.UTF_8);
  }

  private static Version version(Arena a, long addr) {
    return new Version(a.getByte(addr) & 0xFF, a.getByte(addr + 1) & 0xFF);
  }

  /** UTF-8 of a PIN, in a byte[] the caller must wipe. */
  private static byte[] utf8(char[] pin) {
    if (pin == null) {
      return new byte[0];
    }
    ByteBuffer bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(pin));
    byte[] out = new byte[bb.remaining()];
    bb.get(out);
    if (bb.hasArray()) {
      Arrays.fill(bb.array(), (byte) 0);
    }
    return out;
  }

  // ---- templates: CK_ATTRIBUTE[] followed by the values

  private static long templateRoom(Attribute[] t) {
    if (t == null || t.length == 0) {
      return room(1);
    }
    long r = room((long) t.length * Layouts.CK_ATTRIBUTE.size());
    for (Attribute x : t) {
      r += room(Math.max(x.length(), 0));
    }
    return r;
  }

  private static long writeTemplate(Arena a, Attribute[] t) {
    if (t == null || t.length == 0) {
      // An empty template is a valid pointer with count 0: SoftHSM2 answers NULL with CKR_ARGUMENTS_BAD.
      return a.alloc(0);
    }
    int size = Layouts.CK_ATTRIBUTE.size();
    int oType = Layouts.CK_ATTRIBUTE.offset("type");
    int oValue = Layouts.CK_ATTRIBUTE.offset("pValue");
    int oLen = Layouts.CK_ATTRIBUTE.offset("ulValueLen");
    long arr = a.alloc((long) t.length * size);
    for (int i = 0; i < t.length; i++) {
      Attribute x = t[i];
      long s = arr + (long) i * size;
      a.putUlong(s + oType, x.type());
      if (x.present()) {
        long v = a.alloc(x.length());
        x.copyTo(a.buffer(), (int) (v - a.base()));
        a.putPointer(s + oValue, v);
        a.putUlong(s + oLen, x.length());
      } else {
        a.putPointer(s + oValue, 0);
        a.putUlong(s + oLen, 0);
      }
    }
    return arr;
  }

  private static int count(Attribute[] t) {
    return t == null ? 0 : t.length;
  }

  // ---- mechanisms: CK_MECHANISM followed by its parameter structure and the data it points to

  private static long mechanismRoom(Mechanism m) {
    long r = room(Layouts.CK_MECHANISM.size());
    MechanismParams p = m.params();
    if (p == null) {
      return r;
    }
    if (p instanceof MechanismParams.Bytes b) {
      return r + room(b.length());
    }
    if (p instanceof MechanismParams.Ulong) {
      return r + room(ULONG);
    }
    if (p instanceof MechanismParams.Gcm g) {
      return r + room(Layouts.CK_GCM_PARAMS.size()) + room(g.ivLength()) + room(g.aadLength());
    }
    if (p instanceof MechanismParams.Oaep o) {
      return r + room(Layouts.CK_RSA_PKCS_OAEP_PARAMS.size()) + room(o.sourceData().length);
    }
    if (p instanceof MechanismParams.Pss) {
      return r + room(Layouts.CK_RSA_PKCS_PSS_PARAMS.size());
    }
    if (p instanceof MechanismParams.Ecdh1Derive e) {
      return r + room(Layouts.CK_ECDH1_DERIVE_PARAMS.size()) + room(e.sharedData().length) + room(e.publicData().length);
    }
    if (p instanceof MechanismParams.AesCtr) {
      return r + room(Layouts.CK_AES_CTR_PARAMS.size());
    }
    if (p instanceof MechanismParams.Eddsa e) {
      return r + room(Layouts.CK_EDDSA_PARAMS.size()) + room(e.context().length);
    }
    throw new IllegalArgumentException("unknown parameters " + p.getClass());
  }

  private static long bytesOrNull(Arena a, byte[] b) {
    return b.length == 0 ? 0 : a.put(b, 0, b.length);
  }

  private static final int[] GCM_BITS = gcmOffsets(Layouts.CK_GCM_PARAMS, true);
  private static final int[] GCM_NO_BITS = gcmOffsets(Layouts.CK_GCM_PARAMS_NO_IVBITS, false);
  private static final int M_TYPE = Layouts.CK_MECHANISM.offset("mechanism");
  private static final int M_PARAM = Layouts.CK_MECHANISM.offset("pParameter");
  private static final int M_PARAM_LEN = Layouts.CK_MECHANISM.offset("ulParameterLen");

  /** pIv, ulIvLen, ulIvBits (or -1), pAAD, ulAADLen, ulTagBits, size. */
  private static int[] gcmOffsets(StructLayout l, boolean bits) {
    return new int[] {l.offset("pIv"), l.offset("ulIvLen"), bits ? l.offset("ulIvBits") : -1, l.offset("pAAD"),
        l.offset("ulAADLen"), l.offset("ulTagBits"), l.size()};
  }

  /** Writes {@code m}; {@code gcmWithBits} picks the CK_GCM_PARAMS layout. */
  private static long writeMechanism(Arena a, Mechanism m, boolean gcmWithBits) {
    long mech = a.alloc(Layouts.CK_MECHANISM.size());
    a.putUlong(mech + M_TYPE, m.type());
    long param = 0;
    long paramLen = 0;
    MechanismParams p = m.params();
    if (p instanceof MechanismParams.Bytes b) {
      int len = b.length();
      param = a.allocRaw(len);
      b.copyValue(a.buffer(), (int) (param - a.base()));
      paramLen = len;
    } else if (p instanceof MechanismParams.Ulong u) {
      param = a.ulong(u.value());
      paramLen = ULONG;
    } else if (p instanceof MechanismParams.Gcm g) {
      // The hot path of AES-GCM: offsets computed once, IV and AAD copied once, straight into native memory.
      int[] o = gcmWithBits ? GCM_BITS : GCM_NO_BITS;
      param = a.alloc(o[6]);
      paramLen = o[6];
      int ivLen = g.ivLength();
      int aadLen = g.aadLength();
      long pIv = 0;
      if (ivLen > 0) {
        pIv = a.alloc(ivLen);
        g.copyIv(a.buffer(), (int) (pIv - a.base()));
      }
      long pAad = 0;
      if (aadLen > 0) {
        pAad = a.alloc(aadLen);
        g.copyAad(a.buffer(), (int) (pAad - a.base()));
      }
      a.putPointer(param + o[0], pIv);
      a.putUlong(param + o[1], ivLen);
      if (gcmWithBits) {
        a.putUlong(param + o[2], ivLen * 8L);
      }
      a.putPointer(param + o[3], pAad);
      a.putUlong(param + o[4], aadLen);
      a.putUlong(param + o[5], g.tagBits());
    } else if (p instanceof MechanismParams.Oaep o) {
      StructLayout l = Layouts.CK_RSA_PKCS_OAEP_PARAMS;
      param = a.alloc(l.size());
      paramLen = l.size();
      byte[] src = o.sourceData();
      a.putUlong(param + l.offset("hashAlg"), o.hashAlg());
      a.putUlong(param + l.offset("mgf"), o.mgf());
      a.putUlong(param + l.offset("source"), o.source());
      a.putPointer(param + l.offset("pSourceData"), bytesOrNull(a, src));
      a.putUlong(param + l.offset("ulSourceDataLen"), src.length);
    } else if (p instanceof MechanismParams.Pss s) {
      StructLayout l = Layouts.CK_RSA_PKCS_PSS_PARAMS;
      param = a.alloc(l.size());
      paramLen = l.size();
      a.putUlong(param + l.offset("hashAlg"), s.hashAlg());
      a.putUlong(param + l.offset("mgf"), s.mgf());
      a.putUlong(param + l.offset("sLen"), s.saltLength());
    } else if (p instanceof MechanismParams.Ecdh1Derive e) {
      StructLayout l = Layouts.CK_ECDH1_DERIVE_PARAMS;
      param = a.alloc(l.size());
      paramLen = l.size();
      byte[] shared = e.sharedData();
      byte[] pub = e.publicData();
      a.putUlong(param + l.offset("kdf"), e.kdf());
      a.putUlong(param + l.offset("ulSharedDataLen"), shared.length);
      a.putPointer(param + l.offset("pSharedData"), bytesOrNull(a, shared));
      a.putUlong(param + l.offset("ulPublicDataLen"), pub.length);
      a.putPointer(param + l.offset("pPublicData"), bytesOrNull(a, pub));
    } else if (p instanceof MechanismParams.AesCtr ctr) {
      StructLayout l = Layouts.CK_AES_CTR_PARAMS;
      param = a.alloc(l.size());
      paramLen = l.size();
      a.putUlong(param + l.offset("ulCounterBits"), ctr.counterBits());
      a.copyIn(param + l.offset("cb"), ctr.counterBlock(), 0, 16);
    } else if (p instanceof MechanismParams.Eddsa e) {
      StructLayout l = Layouts.CK_EDDSA_PARAMS;
      param = a.alloc(l.size());
      paramLen = l.size();
      byte[] ctx = e.context();
      a.putByte(param + l.offset("phFlag"), (byte) (e.preHash() ? 1 : 0));
      a.putUlong(param + l.offset("ulContextDataLen"), ctx.length);
      a.putPointer(param + l.offset("pContextData"), bytesOrNull(a, ctx));
    }
    a.putPointer(mech + M_PARAM, param);
    a.putUlong(mech + M_PARAM_LEN, paramLen);
    return mech;
  }

  // ------------------------------------------------------------------ general purpose

  @Override
  public void C_Initialize(long flags) {
    StructLayout l = Layouts.CK_C_INITIALIZE_ARGS;
    Arena a = Arena.begin(room(l.size()));
    try {
      long args = a.alloc(l.size());
      // No mutex callbacks (the library uses OS locking) and no reserved pointer: all NULL.
      a.putPointer(args + l.offset("CreateMutex"), 0);
      a.putPointer(args + l.offset("DestroyMutex"), 0);
      a.putPointer(args + l.offset("LockMutex"), 0);
      a.putPointer(args + l.offset("UnlockMutex"), 0);
      a.putPointer(args + l.offset("pReserved"), 0);
      a.putUlong(args + l.offset("flags"), flags);
      check("C_Initialize", c.C_Initialize(args));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_Finalize() {
    check("C_Finalize", c.C_Finalize(0));
  }

  @Override
  public Info C_GetInfo() {
    StructLayout l = Layouts.CK_INFO;
    Arena a = Arena.begin(room(l.size()));
    try {
      long p = a.alloc(l.size());
      check("C_GetInfo", c.C_GetInfo(p));
      return new Info(
          version(a, p + l.offset("cryptokiVersion")),
          text(a, p + l.offset("manufacturerID"), 32),
          a.getUlong(p + l.offset("flags")),
          text(a, p + l.offset("libraryDescription"), 32),
          version(a, p + l.offset("libraryVersion")));
    } finally {
      a.end();
    }
  }

  @Override
  public Version C_GetFunctionList() {
    Arena a = Arena.begin(room(PTR));
    try {
      long p = a.alloc(PTR);
      check("C_GetFunctionList", c.C_GetFunctionList(p));
      long table = a.getPointer(p);
      if (table == 0) {
        throw new Pkcs11Exception("C_GetFunctionList", CKR.GENERAL_ERROR, -1, "no table");
      }
      com.sun.jna.Pointer t = new com.sun.jna.Pointer(table);
      return new Version(t.getByte(0) & 0xFF, t.getByte(1) & 0xFF);
    } finally {
      a.end();
    }
  }

  // ------------------------------------------------------------------ slots and tokens

  @Override
  public long[] C_GetSlotList(boolean tokenPresent) {
    return ulongList("C_GetSlotList", 64, tokenPresent ? 1 : 0);
  }

  @Override
  public long[] C_GetMechanismList(long slotId) {
    return ulongList("C_GetMechanismList", 256, slotId);
  }

  /** One call with a guessed capacity; on CKR_BUFFER_TOO_SMALL, again with the size the library gave. */
  private long[] ulongList(String fn, int guess, long arg) {
    int cap = guess;
    for (int attempt = 0; ; attempt++) {
      Arena a = Arena.begin(room((long) cap * ULONG) + room(ULONG));
      try {
        long arr = a.alloc((long) cap * ULONG);
        long pCount = a.ulong(cap);
        long rv =
            Platform.ulong("C_GetSlotList".equals(fn) ? c.C_GetSlotList(arg, arr, pCount) : c.C_GetMechanismList(arg, arr, pCount));
        long n = a.getUlong(pCount);
        if (rv == CKR.BUFFER_TOO_SMALL && attempt < 4 && n > cap && n < 1 << 20) {
          cap = (int) n;
          continue;
        }
        check(fn, rv);
        long[] out = new long[(int) n];
        for (int i = 0; i < n; i++) {
          out[i] = a.getUlong(arr + (long) i * ULONG);
        }
        return out;
      } finally {
        a.end();
      }
    }
  }

  @Override
  public SlotInfo C_GetSlotInfo(long slotId) {
    StructLayout l = Layouts.CK_SLOT_INFO;
    Arena a = Arena.begin(room(l.size()));
    try {
      long p = a.alloc(l.size());
      check("C_GetSlotInfo", c.C_GetSlotInfo(slotId, p));
      return new SlotInfo(
          text(a, p + l.offset("slotDescription"), 64),
          text(a, p + l.offset("manufacturerID"), 32),
          a.getUlong(p + l.offset("flags")),
          version(a, p + l.offset("hardwareVersion")),
          version(a, p + l.offset("firmwareVersion")));
    } finally {
      a.end();
    }
  }

  @Override
  public TokenInfo C_GetTokenInfo(long slotId) {
    StructLayout l = Layouts.CK_TOKEN_INFO;
    Arena a = Arena.begin(room(l.size()));
    try {
      long p = a.alloc(l.size());
      check("C_GetTokenInfo", c.C_GetTokenInfo(slotId, p));
      return new TokenInfo(
          text(a, p + l.offset("label"), 32),
          text(a, p + l.offset("manufacturerID"), 32),
          text(a, p + l.offset("model"), 16),
          text(a, p + l.offset("serialNumber"), 16),
          a.getUlong(p + l.offset("flags")),
          a.getUlong(p + l.offset("ulMaxSessionCount")),
          a.getUlong(p + l.offset("ulSessionCount")),
          a.getUlong(p + l.offset("ulMaxRwSessionCount")),
          a.getUlong(p + l.offset("ulRwSessionCount")),
          a.getUlong(p + l.offset("ulMaxPinLen")),
          a.getUlong(p + l.offset("ulMinPinLen")),
          a.getUlong(p + l.offset("ulTotalPublicMemory")),
          a.getUlong(p + l.offset("ulFreePublicMemory")),
          a.getUlong(p + l.offset("ulTotalPrivateMemory")),
          a.getUlong(p + l.offset("ulFreePrivateMemory")),
          version(a, p + l.offset("hardwareVersion")),
          version(a, p + l.offset("firmwareVersion")),
          text(a, p + l.offset("utcTime"), 16));
    } finally {
      a.end();
    }
  }

  @Override
  public MechanismInfo C_GetMechanismInfo(long slotId, long mechanism) {
    StructLayout l = Layouts.CK_MECHANISM_INFO;
    Arena a = Arena.begin(room(l.size()));
    try {
      long p = a.alloc(l.size());
      check("C_GetMechanismInfo", c.C_GetMechanismInfo(slotId, mechanism, p));
      return new MechanismInfo(a.getUlong(p + l.offset("ulMinKeySize")), a.getUlong(p + l.offset("ulMaxKeySize")), a.getUlong(p + l.offset("flags")));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_InitToken(long slotId, char[] soPin, String label) {
    byte[] pin = utf8(soPin);
    byte[] lab = label.getBytes(StandardCharsets.UTF_8);
    if (lab.length > 32) {
      Arrays.fill(pin, (byte) 0);
      throw new IllegalArgumentException("a token label is at most 32 bytes of UTF-8");
    }
    byte[] padded = new byte[32];
    Arrays.fill(padded, (byte) ' ');
    System.arraycopy(lab, 0, padded, 0, lab.length);
    Arena a = Arena.begin(room(pin.length) + room(32));
    try {
      long pPin = a.put(pin, 0, pin.length);
      long pLabel = a.put(padded, 0, 32);
      check("C_InitToken", c.C_InitToken(slotId, pPin, pin.length, pLabel));
    } finally {
      Arrays.fill(pin, (byte) 0);
      a.end();
    }
  }

  @Override
  public void C_InitPIN(long session, char[] pin) {
    byte[] p = utf8(pin);
    Arena a = Arena.begin(room(p.length));
    try {
      check("C_InitPIN", c.C_InitPIN(session, a.put(p, 0, p.length), p.length));
    } finally {
      Arrays.fill(p, (byte) 0);
      a.end();
    }
  }

  @Override
  public void C_SetPIN(long session, char[] oldPin, char[] newPin) {
    byte[] o = utf8(oldPin);
    byte[] n = utf8(newPin);
    Arena a = Arena.begin(room(o.length) + room(n.length));
    try {
      long po = a.put(o, 0, o.length);
      long pn = a.put(n, 0, n.length);
      check("C_SetPIN", c.C_SetPIN(session, po, o.length, pn, n.length));
    } finally {
      Arrays.fill(o, (byte) 0);
      Arrays.fill(n, (byte) 0);
      a.end();
    }
  }

  // ------------------------------------------------------------------ sessions

  @Override
  public long C_OpenSession(long slotId, long flags) {
    Arena a = Arena.begin(room(ULONG));
    try {
      long ph = a.ulong(0);
      check("C_OpenSession", c.C_OpenSession(slotId, flags, 0, 0, ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  @Override
  public void C_CloseSession(long session) {
    check("C_CloseSession", c.C_CloseSession(session));
  }

  @Override
  public void C_CloseAllSessions(long slotId) {
    check("C_CloseAllSessions", c.C_CloseAllSessions(slotId));
  }

  @Override
  public SessionInfo C_GetSessionInfo(long session) {
    StructLayout l = Layouts.CK_SESSION_INFO;
    Arena a = Arena.begin(room(l.size()));
    try {
      long p = a.alloc(l.size());
      check("C_GetSessionInfo", c.C_GetSessionInfo(session, p));
      return new SessionInfo(a.getUlong(p + l.offset("slotID")), a.getUlong(p + l.offset("state")), a.getUlong(p + l.offset("flags")), a.getUlong(p + l.offset("ulDeviceError")));
    } finally {
      a.end();
    }
  }

  @Override
  public byte[] C_GetOperationState(long session) {
    long len;
    Arena a = Arena.begin(room(ULONG));
    try {
      long pLen = a.ulong(0);
      check("C_GetOperationState", c.C_GetOperationState(session, 0, pLen));
      len = a.getUlong(pLen);
    } finally {
      a.end();
    }
    a = Arena.begin(room(len) + room(ULONG));
    try {
      long p = a.alloc(len);
      long pLen = a.ulong(len);
      check("C_GetOperationState", c.C_GetOperationState(session, p, pLen));
      return a.read(p, (int) a.getUlong(pLen));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_SetOperationState(long session, byte[] state, long encryptionKey, long authenticationKey) {
    Arena a = Arena.begin(room(state.length));
    try {
      long p = a.put(state, 0, state.length);
      check("C_SetOperationState", c.C_SetOperationState(session, p, state.length, encryptionKey, authenticationKey));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_Login(long session, long userType, char[] pin) {
    byte[] p = utf8(pin);
    Arena a = Arena.begin(room(p.length));
    try {
      long pp = pin == null ? 0 : a.put(p, 0, p.length);
      check("C_Login", c.C_Login(session, userType, pp, p.length));
    } finally {
      Arrays.fill(p, (byte) 0);
      a.end();
    }
  }

  @Override
  public void C_Logout(long session) {
    check("C_Logout", c.C_Logout(session));
  }

  // ------------------------------------------------------------------ objects

  @Override
  public long C_CreateObject(long session, Attribute... template) {
    Arena a = Arena.begin(templateRoom(template) + room(ULONG));
    try {
      long t = writeTemplate(a, template);
      long ph = a.ulong(0);
      check("C_CreateObject", c.C_CreateObject(session, t, count(template), ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  @Override
  public long C_CopyObject(long session, long object, Attribute... template) {
    Arena a = Arena.begin(templateRoom(template) + room(ULONG));
    try {
      long t = writeTemplate(a, template);
      long ph = a.ulong(0);
      check("C_CopyObject", c.C_CopyObject(session, object, t, count(template), ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  @Override
  public void C_DestroyObject(long session, long object) {
    check("C_DestroyObject", c.C_DestroyObject(session, object));
  }

  @Override
  public long C_GetObjectSize(long session, long object) {
    Arena a = Arena.begin(room(ULONG));
    try {
      long p = a.ulong(0);
      check("C_GetObjectSize", c.C_GetObjectSize(session, object, p));
      return a.getUlong(p);
    } finally {
      a.end();
    }
  }

  /** Bytes guessed per attribute value so that most reads take one call instead of two. */
  private static final int ATTRIBUTE_GUESS = 256;

  @Override
  public Attribute[] C_GetAttributeValue(long session, long object, long... types) {
    int n = types.length;
    Attribute[] out = new Attribute[n];
    if (n == 0) {
      return out;
    }
    StructLayout l = Layouts.CK_ATTRIBUTE;
    int size = l.size();
    int oType = l.offset("type");
    int oValue = l.offset("pValue");
    int oLen = l.offset("ulValueLen");
    boolean[] redo = new boolean[n];
    int redoCount = 0;
    // Pass 1: every attribute with a guessed buffer. Most reads end here, in one native call.
    Arena a = Arena.begin(room((long) n * size) + (long) n * room(ATTRIBUTE_GUESS));
    try {
      long arr = a.alloc((long) n * size);
      for (int i = 0; i < n; i++) {
        long s = arr + (long) i * size;
        a.putUlong(s + oType, types[i]);
        a.putPointer(s + oValue, a.alloc(ATTRIBUTE_GUESS));
        a.putUlong(s + oLen, ATTRIBUTE_GUESS);
      }
      long rv = Platform.ulong(c.C_GetAttributeValue(session, object, arr, n));
      if (rv != OK && rv != CKR.ATTRIBUTE_SENSITIVE && rv != CKR.ATTRIBUTE_TYPE_INVALID && rv != CKR.BUFFER_TOO_SMALL) {
        throw new Pkcs11Exception("C_GetAttributeValue", rv);
      }
      for (int i = 0; i < n; i++) {
        long s = arr + (long) i * size;
        long len = a.getUlong(s + oLen);
        if (len == Platform.UNAVAILABLE_INFORMATION || len > ATTRIBUTE_GUESS) {
          if (rv == CKR.BUFFER_TOO_SMALL || rv != OK) {
            // Sensitive, absent or too long: pass 2 tells which.
            redo[i] = rv == CKR.BUFFER_TOO_SMALL || len != Platform.UNAVAILABLE_INFORMATION || rv == CKR.ATTRIBUTE_SENSITIVE || rv == CKR.ATTRIBUTE_TYPE_INVALID;
          }
          if (redo[i]) {
            redoCount++;
          } else {
            out[i] = Attribute.empty(types[i]);
          }
        } else {
          out[i] = Attribute.bytes(types[i], a.read(a.getPointer(s + oValue), (int) len));
        }
      }
    } finally {
      a.end();
    }
    if (redoCount > 0) {
      long[] sub = new long[redoCount];
      int[] where = new int[redoCount];
      for (int i = 0, j = 0; i < n; i++) {
        if (redo[i]) {
          sub[j] = types[i];
          where[j++] = i;
        }
      }
      Attribute[] got = getAttributesExact(session, object, sub);
      for (int j = 0; j < redoCount; j++) {
        out[where[j]] = got[j];
      }
    }
    return out;
  }

  /** The two-call form: ask every length, then fetch those that have one. */
  private Attribute[] getAttributesExact(long session, long object, long[] types) {
    int n = types.length;
    StructLayout l = Layouts.CK_ATTRIBUTE;
    int size = l.size();
    long[] lens = new long[n];
    Arena a = Arena.begin(room((long) n * size));
    try {
      long arr = a.alloc((long) n * size);
      for (int i = 0; i < n; i++) {
        a.putUlong(arr + (long) i * size + l.offset("type"), types[i]);
      }
      long rv = Platform.ulong(c.C_GetAttributeValue(session, object, arr, n));
      if (rv != OK && rv != CKR.ATTRIBUTE_SENSITIVE && rv != CKR.ATTRIBUTE_TYPE_INVALID) {
        throw new Pkcs11Exception("C_GetAttributeValue", rv);
      }
      for (int i = 0; i < n; i++) {
        lens[i] = a.getUlong(arr + (long) i * size + l.offset("ulValueLen"));
      }
    } finally {
      a.end();
    }
    long total = room((long) n * size);
    for (long len : lens) {
      if (len != Platform.UNAVAILABLE_INFORMATION) {
        if (len > Arena.MAX_CALL_BYTES) {
          throw new Pkcs11Exception("C_GetAttributeValue", CKR.DEVICE_MEMORY, -1, "an attribute reported " + len + " bytes");
        }
        total += room(len);
      }
    }
    Attribute[] out = new Attribute[n];
    a = Arena.begin(total);
    try {
      long arr = a.alloc((long) n * size);
      for (int i = 0; i < n; i++) {
        long s = arr + (long) i * size;
        a.putUlong(s + l.offset("type"), types[i]);
        if (lens[i] != Platform.UNAVAILABLE_INFORMATION) {
          a.putPointer(s + l.offset("pValue"), a.alloc(lens[i]));
          a.putUlong(s + l.offset("ulValueLen"), lens[i]);
        } else {
          a.putPointer(s + l.offset("pValue"), 0);
          a.putUlong(s + l.offset("ulValueLen"), 0);
        }
      }
      long rv = Platform.ulong(c.C_GetAttributeValue(session, object, arr, n));
      if (rv != OK && rv != CKR.ATTRIBUTE_SENSITIVE && rv != CKR.ATTRIBUTE_TYPE_INVALID) {
        throw new Pkcs11Exception("C_GetAttributeValue", rv);
      }
      for (int i = 0; i < n; i++) {
        long s = arr + (long) i * size;
        long len = a.getUlong(s + l.offset("ulValueLen"));
        long p = a.getPointer(s + l.offset("pValue"));
        out[i] = (lens[i] == Platform.UNAVAILABLE_INFORMATION || len == Platform.UNAVAILABLE_INFORMATION || p == 0)
            ? Attribute.empty(types[i])
            : Attribute.bytes(types[i], a.read(p, (int) len));
      }
      return out;
    } finally {
      a.end();
    }
  }

  @Override
  public void C_SetAttributeValue(long session, long object, Attribute... template) {
    Arena a = Arena.begin(templateRoom(template));
    try {
      long t = writeTemplate(a, template);
      check("C_SetAttributeValue", c.C_SetAttributeValue(session, object, t, count(template)));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_FindObjectsInit(long session, Attribute... template) {
    Arena a = Arena.begin(templateRoom(template));
    try {
      long t = writeTemplate(a, template);
      check("C_FindObjectsInit", c.C_FindObjectsInit(session, t, count(template)));
    } finally {
      a.end();
    }
  }

  @Override
  public long[] C_FindObjects(long session, int maxCount) {
    if (maxCount < 1) {
      throw new IllegalArgumentException("maxCount must be positive");
    }
    Arena a = Arena.begin(room((long) maxCount * ULONG) + room(ULONG));
    try {
      long arr = a.alloc((long) maxCount * ULONG);
      long pCount = a.ulong(0);
      check("C_FindObjects", c.C_FindObjects(session, arr, maxCount, pCount));
      int n = (int) Math.min(a.getUlong(pCount), maxCount);
      long[] out = new long[n];
      for (int i = 0; i < n; i++) {
        out[i] = a.getUlong(arr + (long) i * ULONG);
      }
      return out;
    } finally {
      a.end();
    }
  }

  @Override
  public void C_FindObjectsFinal(long session) {
    check("C_FindObjectsFinal", c.C_FindObjectsFinal(session));
  }

  // ------------------------------------------------------------------ operations: init

  private void init(int index, long session, Mechanism m, long key) {
    need(index);
    String fn = FunctionTable.NAMES.get(index);
    boolean gcm = m.params() instanceof MechanismParams.Gcm;
    int layout = gcmLayout;
    boolean withBits = layout != 2;
    long rv = initOnce(index, session, m, key, withBits);
    if (gcm && layout == 0) {
      if (rv == OK) {
        gcmLayout = 1;
      } else if (rv == CKR.ARGUMENTS_BAD || rv == CKR.MECHANISM_PARAM_INVALID) {
        // The library may use the other published CK_GCM_PARAMS; try it once and remember.
        long rv2 = initOnce(index, session, m, key, false);
        if (rv2 == OK) {
          gcmLayout = 2;
          return;
        }
      }
    }
    check(fn, rv);
  }

  private long initOnce(int index, long session, Mechanism m, long key, boolean gcmWithBits) {
    Arena a = Arena.begin(mechanismRoom(m));
    try {
      long pm = writeMechanism(a, m, gcmWithBits);
      long rv;
      if (index == I_ENCRYPT_INIT) {
        rv = c.C_EncryptInit(session, pm, key);
      } else if (index == I_DECRYPT_INIT) {
        rv = c.C_DecryptInit(session, pm, key);
      } else if (index == I_SIGN_INIT) {
        rv = c.C_SignInit(session, pm, key);
      } else if (index == I_VERIFY_INIT) {
        rv = c.C_VerifyInit(session, pm, key);
      } else if (index == I_DIGEST_INIT) {
        rv = c.C_DigestInit(session, pm);
      } else if (index == I_SIGN_RECOVER_INIT) {
        rv = c.C_SignRecoverInit(session, pm, key);
      } else if (index == I_VERIFY_RECOVER_INIT) {
        rv = c.C_VerifyRecoverInit(session, pm, key);
      } else {
        throw new AssertionError(index);
      }
      return Platform.ulong(rv);
    } finally {
      a.end();
    }
  }

  @Override
  public void C_EncryptInit(long session, Mechanism mechanism, long key) {
    init(I_ENCRYPT_INIT, session, mechanism, key);
  }

  @Override
  public void C_DecryptInit(long session, Mechanism mechanism, long key) {
    init(I_DECRYPT_INIT, session, mechanism, key);
  }

  @Override
  public void C_DigestInit(long session, Mechanism mechanism) {
    init(I_DIGEST_INIT, session, mechanism, 0);
  }

  @Override
  public void C_SignInit(long session, Mechanism mechanism, long key) {
    init(I_SIGN_INIT, session, mechanism, key);
  }

  @Override
  public void C_SignRecoverInit(long session, Mechanism mechanism, long key) {
    init(I_SIGN_RECOVER_INIT, session, mechanism, key);
  }

  @Override
  public void C_VerifyInit(long session, Mechanism mechanism, long key) {
    init(I_VERIFY_INIT, session, mechanism, key);
  }

  @Override
  public void C_VerifyRecoverInit(long session, Mechanism mechanism, long key) {
    init(I_VERIFY_RECOVER_INIT, session, mechanism, key);
  }

  // ------------------------------------------------------------------ operations: data

  /** One call of the shape {@code f(session, in, inLen, out, &outLen)}. */
  private int inOut(int index, long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    need(index);
    Pkcs11.checkRange(in, inOff, inLen, "in");
    outLen = outRange(out, outOff, outLen);
    if (jni && !pinnedOverlap(in, inOff, inLen, out, outOff, outLen)) {
      return jniInOut(0, index, session, null, 0, in, inOff, inLen, out, outOff, outLen, 0);
    }
    Arena a = Arena.begin(room(inLen) + room(outLen) + room(ULONG));
    try {
      // pLen first, the public buffer (if any) last: see Arena.markPublic.
      long pLen = a.ulong(outLen);
      long pIn;
      long pOut;
      if (index == I_DECRYPT || index == I_DECRYPT_UPDATE) {
        // Ciphertext in, plaintext out: the input is public, the output is wiped.
        pOut = out == null ? 0 : a.allocRaw(outLen);
        pIn = inLen == 0 ? a.alloc(0) : a.put(in, inOff, inLen);
        a.markPublic(pIn, inLen);
      } else {
        pIn = inLen == 0 ? a.alloc(0) : a.put(in, inOff, inLen);
        pOut = out == null ? 0 : a.allocRaw(outLen);
        if (out != null && (index == I_ENCRYPT || index == I_ENCRYPT_UPDATE || index == I_SIGN)) {
          // Ciphertext, a signature or a MAC out: public; the input (plaintext, data) is wiped.
          a.markPublic(pOut, outLen);
        }
      }
      long rv;
      if (index == I_ENCRYPT) {
        rv = c.C_Encrypt(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DECRYPT) {
        rv = c.C_Decrypt(session, pIn, inLen, pOut, pLen);
      } else if (index == I_SIGN) {
        rv = c.C_Sign(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DIGEST) {
        rv = c.C_Digest(session, pIn, inLen, pOut, pLen);
      } else if (index == I_ENCRYPT_UPDATE) {
        rv = c.C_EncryptUpdate(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DECRYPT_UPDATE) {
        rv = c.C_DecryptUpdate(session, pIn, inLen, pOut, pLen);
      } else if (index == I_SIGN_RECOVER) {
        rv = c.C_SignRecover(session, pIn, inLen, pOut, pLen);
      } else if (index == I_VERIFY_RECOVER) {
        rv = c.C_VerifyRecover(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DIGEST_ENCRYPT) {
        rv = c.C_DigestEncryptUpdate(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DECRYPT_DIGEST) {
        rv = c.C_DecryptDigestUpdate(session, pIn, inLen, pOut, pLen);
      } else if (index == I_SIGN_ENCRYPT) {
        rv = c.C_SignEncryptUpdate(session, pIn, inLen, pOut, pLen);
      } else if (index == I_DECRYPT_VERIFY) {
        rv = c.C_DecryptVerifyUpdate(session, pIn, inLen, pOut, pLen);
      } else {
        throw new AssertionError(index);
      }
      return finish(index, rv, a, pOut, pLen, out, outOff, outLen);
    } finally {
      a.end();
    }
  }

  /** One call of the shape {@code f(session, out, &outLen)}. */
  private int outOnly(int index, long session, byte[] out, int outOff, int outLen) {
    need(index);
    outLen = outRange(out, outOff, outLen);
    if (jni) {
      return jniInOut(0, index, session, null, 0, null, 0, 0, out, outOff, outLen, JniCalls.F_OUT_ONLY);
    }
    Arena a = Arena.begin(room(outLen) + room(ULONG));
    try {
      long pLen = a.ulong(outLen);
      long pOut = out == null ? 0 : a.allocRaw(outLen);
      if (out != null && (index == I_ENCRYPT_FINAL || index == I_SIGN_FINAL)) {
        a.markPublic(pOut, outLen); // ciphertext, a signature or a MAC
      }
      long rv;
      if (index == I_ENCRYPT_FINAL) {
        rv = c.C_EncryptFinal(session, pOut, pLen);
      } else if (index == I_DECRYPT_FINAL) {
        rv = c.C_DecryptFinal(session, pOut, pLen);
      } else if (index == I_SIGN_FINAL) {
        rv = c.C_SignFinal(session, pOut, pLen);
      } else if (index == I_DIGEST_FINAL) {
        rv = c.C_DigestFinal(session, pOut, pLen);
      } else {
        throw new AssertionError(index);
      }
      return finish(index, rv, a, pOut, pLen, out, outOff, outLen);
    } finally {
      a.end();
    }
  }

  private static int finish(int index, long rv, Arena a, long pOut, long pLen, byte[] out, int outOff, int outLen) {
    int n = reported(index, Platform.ulong(rv), a.getUlong(pLen), out, outLen);
    if (out != null) {
      a.copyOut(pOut, out, outOff, n);
    }
    return n;
  }

  /**
   * What a data call of shape {@code f(..., out, &len)} returned, on either path: its CK_RV as a
   * Pkcs11Exception (with the required length for CKR_BUFFER_TOO_SMALL), a reported length beyond
   * the buffer as an overrun, and otherwise the length {@code n}.
   */
  private static int reported(int index, long rv, long n, byte[] out, int outLen) {
    String fn = FunctionTable.NAMES.get(index);
    if (rv != OK) {
      throw new Pkcs11Exception(fn, rv, rv == CKR.BUFFER_TOO_SMALL ? n : -1, null);
    }
    if (out != null && n > outLen) {
      // A library that writes past the length it was given has already overrun its buffer.
      throw new Pkcs11Exception(fn, CKR.GENERAL_ERROR, n, "the library reported " + n + " bytes for a " + outLen + "-byte buffer");
    }
    if (n > Integer.MAX_VALUE) {
      throw new Pkcs11Exception(fn, CKR.GENERAL_ERROR, n, "length out of range");
    }
    return (int) n;
  }

  // ------------------------------------------------------------------ the JNI fast path

  /**
   * What the JNI side wipes: its stack copy of the input unless it is ciphertext, and of the output
   * unless it is ciphertext, a signature or a MAC. The same split as the arena's public regions.
   */
  private static int secrecy(int dataIndex) {
    boolean publicIn = dataIndex == I_DECRYPT || dataIndex == I_DECRYPT_UPDATE;
    boolean publicOut = dataIndex == I_ENCRYPT || dataIndex == I_ENCRYPT_UPDATE || dataIndex == I_SIGN || dataIndex == I_ENCRYPT_FINAL || dataIndex == I_SIGN_FINAL;
    return (publicIn ? 0 : JniCalls.F_SECRET_A) | (publicOut ? 0 : JniCalls.F_SECRET_B);
  }

  /**
   * One {@link JniCalls#inOut}: the init call at {@code initIndex} (0 for none) with {@code m}, then
   * the data call at {@code dataIndex}. Ranges are checked by the caller; {@code outLen} is 0 when
   * {@code out} is null.
   */
  private int jniInOut(int initIndex, int dataIndex, long session, Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen, int flags) {
    Arena a = Arena.begin(room(2L * ULONG) + (m == null ? 0 : mechanismRoom(m)));
    try {
      long scratch = a.alloc(2L * ULONG);
      long pm = 0;
      if (m != null) {
        pm = writeMechanism(a, m, gcmLayout != 2);
        flags |= JniCalls.F_INIT | (initIndex == I_DIGEST_INIT ? JniCalls.F_NO_KEY : 0);
        if (quick(m.type()) && !overlap(in, inOff, inLen, out, outOff, outLen)) {
          flags |= JniCalls.F_PIN;
        }
      }
      long rv = Platform.ulong(JniCalls.inOut(m == null ? 0 : module.address(initIndex), module.address(dataIndex), session, pm, key, in, inOff, inLen, out, outOff, outLen, scratch, flags | secrecy(dataIndex)));
      boolean initDone = m == null || a.getUlong(scratch + ULONG) == 1;
      if (!initDone) {
        throw new Pkcs11Exception(FunctionTable.NAMES.get(initIndex), rv);
      }
      return reported(dataIndex, rv, a.getUlong(scratch), out, outLen);
    } finally {
      a.end();
    }
  }

  /** FunctionTable indices of each SinglePart's init and data function, by ordinal. */
  private static final int[] INIT_INDEX = Arrays.stream(SinglePart.values()).mapToInt(p -> FunctionTable.index(p.initFunction())).toArray();
  private static final int[] DATA_INDEX = Arrays.stream(SinglePart.values()).mapToInt(p -> FunctionTable.index(p.dataFunction())).toArray();

  /** Whether the init call of {@code m} can go through JNI: not while the GCM layout is still unknown. */
  private boolean jniInit(Mechanism m) {
    return jni && (gcmLayout != 0 || !(m.params() instanceof MechanismParams.Gcm));
  }

  /**
   * Whether the JNI side would pin one array for both input and output with overlapping ranges:
   * the library would then see overlapping buffers, which PKCS#11 does not promise to handle, so
   * such a call takes the JNA path, which copies. (Data up to {@link JniCalls#STACK_BYTES} is
   * copied through the stack, so in-place calls of that size stay on the fast path.)
   */
  private static boolean pinnedOverlap(byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inLen > JniCalls.STACK_BYTES && outLen > JniCalls.STACK_BYTES && overlap(in, inOff, inLen, out, outOff, outLen);
  }

  /** Whether input and output are ranges of one array that share a byte. */
  private static boolean overlap(byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return in != null && in == out && inLen > 0 && outLen > 0 && inOff < outOff + outLen && outOff < inOff + inLen;
  }

  /**
   * Mechanisms whose token calls take microseconds (AES, HMAC, SHA-2): their arrays are pinned
   * whatever their size, saving the copies through the C stack (about 1 % of a 1 KiB AES-GCM
   * operation). A pinned array holds off the garbage collector while the library runs, so RSA and
   * EC calls, which take up to milliseconds, keep copying their small inputs.
   */
  private static boolean quick(long type) {
    return (type >= CKM.AES_ECB && type <= CKM.AES_GMAC)
        || type == CKM.SHA_1_HMAC || type == CKM.SHA224_HMAC || type == CKM.SHA256_HMAC || type == CKM.SHA384_HMAC || type == CKM.SHA512_HMAC
        || type == CKM.SHA_1 || type == CKM.SHA224 || type == CKM.SHA256 || type == CKM.SHA384 || type == CKM.SHA512;
  }

  @Override
  public int initAndRun(SinglePart op, long session, Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    if (!jniInit(m) || (out != null && pinnedOverlap(in, inOff, inLen, out, outOff, outLen))) {
      return Pkcs11.super.initAndRun(op, session, m, key, in, inOff, inLen, out, outOff, outLen);
    }
    int initIndex = INIT_INDEX[op.ordinal()];
    int dataIndex = DATA_INDEX[op.ordinal()];
    need(initIndex);
    need(dataIndex);
    Pkcs11.checkRange(in, inOff, inLen, "in");
    outLen = outRange(out, outOff, outLen);
    return jniInOut(initIndex, dataIndex, session, m, key, in, inOff, inLen, out, outOff, outLen, 0);
  }

  @Override
  public void initAndVerify(long session, Mechanism m, long key, byte[] data, int dataOff, int dataLen, byte[] sig, int sigOff, int sigLen) {
    if (!jniInit(m)) {
      Pkcs11.super.initAndVerify(session, m, key, data, dataOff, dataLen, sig, sigOff, sigLen);
      return;
    }
    need(I_VERIFY_INIT);
    need(I_VERIFY);
    Pkcs11.checkRange(data, dataOff, dataLen, "data");
    Pkcs11.checkRange(sig, sigOff, sigLen, "signature");
    Arena a = Arena.begin(room(2L * ULONG) + mechanismRoom(m));
    try {
      long scratch = a.alloc(2L * ULONG);
      long pm = writeMechanism(a, m, gcmLayout != 2);
      int flags = JniCalls.F_INIT | JniCalls.F_SECRET_A | (quick(m.type()) ? JniCalls.F_PIN : 0);
      long rv = JniCalls.twoIn(module.address(I_VERIFY_INIT), module.address(I_VERIFY), session, pm, key, data, dataOff, dataLen, sig, sigOff, sigLen, scratch, flags);
      check(a.getUlong(scratch + ULONG) == 1 ? "C_Verify" : "C_VerifyInit", rv);
    } finally {
      a.end();
    }
  }

  /** One call of the shape {@code f(session, in, inLen)}. */
  private void inOnly(int index, long session, byte[] in, int inOff, int inLen) {
    need(index);
    Pkcs11.checkRange(in, inOff, inLen, "in");
    if (jni) {
      check(FunctionTable.NAMES.get(index), JniCalls.oneBuf(module.address(index), session, in, inOff, inLen, JniCalls.F_SECRET_A));
      return;
    }
    Arena a = Arena.begin(room(inLen));
    try {
      long pIn = inLen == 0 ? a.alloc(0) : a.put(in, inOff, inLen);
      long rv;
      if (index == I_DIGEST_UPDATE) {
        rv = c.C_DigestUpdate(session, pIn, inLen);
      } else if (index == I_SIGN_UPDATE) {
        rv = c.C_SignUpdate(session, pIn, inLen);
      } else if (index == I_VERIFY_UPDATE) {
        rv = c.C_VerifyUpdate(session, pIn, inLen);
      } else if (index == I_VERIFY_FINAL) {
        rv = c.C_VerifyFinal(session, pIn, inLen);
      } else if (index == I_SEED_RANDOM) {
        rv = c.C_SeedRandom(session, pIn, inLen);
      } else {
        throw new AssertionError(index);
      }
      check(FunctionTable.NAMES.get(index), rv);
    } finally {
      a.end();
    }
  }

  @Override
  public int C_Encrypt(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_ENCRYPT, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_EncryptUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_ENCRYPT_UPDATE, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_EncryptFinal(long s, byte[] out, int outOff, int outLen) {
    return outOnly(I_ENCRYPT_FINAL, s, out, outOff, outLen);
  }

  @Override
  public int C_Decrypt(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DECRYPT, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_DecryptUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DECRYPT_UPDATE, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_DecryptFinal(long s, byte[] out, int outOff, int outLen) {
    return outOnly(I_DECRYPT_FINAL, s, out, outOff, outLen);
  }

  @Override
  public int C_Digest(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DIGEST, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public void C_DigestUpdate(long s, byte[] in, int inOff, int inLen) {
    inOnly(I_DIGEST_UPDATE, s, in, inOff, inLen);
  }

  @Override
  public void C_DigestKey(long s, long key) {
    check("C_DigestKey", c.C_DigestKey(s, key));
  }

  @Override
  public int C_DigestFinal(long s, byte[] out, int outOff, int outLen) {
    return outOnly(I_DIGEST_FINAL, s, out, outOff, outLen);
  }

  @Override
  public int C_Sign(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_SIGN, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public void C_SignUpdate(long s, byte[] in, int inOff, int inLen) {
    inOnly(I_SIGN_UPDATE, s, in, inOff, inLen);
  }

  @Override
  public int C_SignFinal(long s, byte[] out, int outOff, int outLen) {
    return outOnly(I_SIGN_FINAL, s, out, outOff, outLen);
  }

  @Override
  public int C_SignRecover(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_SIGN_RECOVER, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public void C_Verify(long s, byte[] data, int dataOff, int dataLen, byte[] sig, int sigOff, int sigLen) {
    Pkcs11.checkRange(data, dataOff, dataLen, "data");
    Pkcs11.checkRange(sig, sigOff, sigLen, "signature");
    if (jni) {
      need(I_VERIFY);
      check("C_Verify", JniCalls.twoIn(0, module.address(I_VERIFY), s, 0, 0, data, dataOff, dataLen, sig, sigOff, sigLen, 0, JniCalls.F_SECRET_A));
      return;
    }
    Arena a = Arena.begin(room(dataLen) + room(sigLen));
    try {
      long pData = dataLen == 0 ? a.alloc(0) : a.put(data, dataOff, dataLen);
      long pSig = sigLen == 0 ? a.alloc(0) : a.put(sig, sigOff, sigLen);
      check("C_Verify", c.C_Verify(s, pData, dataLen, pSig, sigLen));
    } finally {
      a.end();
    }
  }

  @Override
  public void C_VerifyUpdate(long s, byte[] in, int inOff, int inLen) {
    inOnly(I_VERIFY_UPDATE, s, in, inOff, inLen);
  }

  @Override
  public void C_VerifyFinal(long s, byte[] sig, int sigOff, int sigLen) {
    inOnly(I_VERIFY_FINAL, s, sig, sigOff, sigLen);
  }

  @Override
  public int C_VerifyRecover(long s, byte[] sig, int sigOff, int sigLen, byte[] out, int outOff, int outLen) {
    return inOut(I_VERIFY_RECOVER, s, sig, sigOff, sigLen, out, outOff, outLen);
  }

  @Override
  public int C_DigestEncryptUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DIGEST_ENCRYPT, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_DecryptDigestUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DECRYPT_DIGEST, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_SignEncryptUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_SIGN_ENCRYPT, s, in, inOff, inLen, out, outOff, outLen);
  }

  @Override
  public int C_DecryptVerifyUpdate(long s, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return inOut(I_DECRYPT_VERIFY, s, in, inOff, inLen, out, outOff, outLen);
  }

  // ------------------------------------------------------------------ keys

  @Override
  public long C_GenerateKey(long s, Mechanism m, Attribute... template) {
    Arena a = Arena.begin(mechanismRoom(m) + templateRoom(template) + room(ULONG));
    try {
      long pm = writeMechanism(a, m, gcmLayout != 2);
      long t = writeTemplate(a, template);
      long ph = a.ulong(0);
      check("C_GenerateKey", c.C_GenerateKey(s, pm, t, count(template), ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  @Override
  public KeyPairHandles C_GenerateKeyPair(long s, Mechanism m, Attribute[] pub, Attribute[] priv) {
    Arena a = Arena.begin(mechanismRoom(m) + templateRoom(pub) + templateRoom(priv) + 2 * room(ULONG));
    try {
      long pm = writeMechanism(a, m, gcmLayout != 2);
      long tPub = writeTemplate(a, pub);
      long tPriv = writeTemplate(a, priv);
      long phPub = a.ulong(0);
      long phPriv = a.ulong(0);
      check("C_GenerateKeyPair", c.C_GenerateKeyPair(s, pm, tPub, count(pub), tPriv, count(priv), phPub, phPriv));
      return new KeyPairHandles(a.getUlong(phPub), a.getUlong(phPriv));
    } finally {
      a.end();
    }
  }

  /** Wrapped keys fit this unless the key is an RSA private key beyond 4096 bits. */
  private static final int WRAP_GUESS = 8192;

  @Override
  public byte[] C_WrapKey(long s, Mechanism m, long wrappingKey, long key) {
    long cap = WRAP_GUESS;
    for (int attempt = 0; ; attempt++) {
      Arena a = Arena.begin(mechanismRoom(m) + room(cap) + room(ULONG));
      try {
        long pm = writeMechanism(a, m, gcmLayout != 2);
        long pOut = a.alloc(cap);
        long pLen = a.ulong(cap);
        long rv = Platform.ulong(c.C_WrapKey(s, pm, wrappingKey, key, pOut, pLen));
        long n = a.getUlong(pLen);
        if (rv == CKR.BUFFER_TOO_SMALL && attempt == 0 && n > cap && n <= Arena.MAX_CALL_BYTES / 2) {
          cap = n;
          continue;
        }
        check("C_WrapKey", rv);
        return a.read(pOut, (int) n);
      } finally {
        a.end();
      }
    }
  }

  @Override
  public long C_UnwrapKey(long s, Mechanism m, long unwrappingKey, byte[] wrapped, Attribute... template) {
    Arena a = Arena.begin(mechanismRoom(m) + room(wrapped.length) + templateRoom(template) + room(ULONG));
    try {
      long pm = writeMechanism(a, m, gcmLayout != 2);
      long pw = a.put(wrapped, 0, wrapped.length);
      long t = writeTemplate(a, template);
      long ph = a.ulong(0);
      check("C_UnwrapKey", c.C_UnwrapKey(s, pm, unwrappingKey, pw, wrapped.length, t, count(template), ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  @Override
  public long C_DeriveKey(long s, Mechanism m, long baseKey, Attribute... template) {
    Arena a = Arena.begin(mechanismRoom(m) + templateRoom(template) + room(ULONG));
    try {
      long pm = writeMechanism(a, m, gcmLayout != 2);
      long t = writeTemplate(a, template);
      long ph = a.ulong(0);
      check("C_DeriveKey", c.C_DeriveKey(s, pm, baseKey, t, count(template), ph));
      return a.getUlong(ph);
    } finally {
      a.end();
    }
  }

  // ------------------------------------------------------------------ random

  @Override
  public void C_SeedRandom(long s, byte[] seed, int off, int len) {
    inOnly(I_SEED_RANDOM, s, seed, off, len);
  }

  @Override
  public void C_GenerateRandom(long s, byte[] out, int off, int len) {
    Objects.checkFromIndexSize(off, len, out.length);
    if (jni) {
      need(I_GENERATE_RANDOM);
      check("C_GenerateRandom", JniCalls.oneBuf(module.address(I_GENERATE_RANDOM), s, out, off, len, JniCalls.F_WRITES_A | JniCalls.F_SECRET_A));
      return;
    }
    Arena a = Arena.begin(room(len));
    try {
      long p = a.allocRaw(len); // filled by the library; random bytes are secret, so end() wipes them
      check("C_GenerateRandom", c.C_GenerateRandom(s, p, len));
      a.copyOut(p, out, off, len);
    } finally {
      a.end();
    }
  }

  // ------------------------------------------------------------------ legacy and events

  @Override
  public void C_GetFunctionStatus(long s) {
    check("C_GetFunctionStatus", c.C_GetFunctionStatus(s));
  }

  @Override
  public void C_CancelFunction(long s) {
    check("C_CancelFunction", c.C_CancelFunction(s));
  }

  @Override
  public long C_WaitForSlotEvent(long flags) {
    Arena a = Arena.begin(room(ULONG));
    try {
      long p = a.ulong(0);
      long rv = Platform.ulong(c.C_WaitForSlotEvent(flags, p, 0));
      if (rv == CKR_NO_EVENT) {
        return -1;
      }
      check("C_WaitForSlotEvent", rv);
      return a.getUlong(p);
    } finally {
      a.end();
    }
  }

  // ------------------------------------------------------------------ v3.0

  @Override
  public String[] C_GetInterfaceList() {
    int index = FunctionTable.index("C_GetInterfaceList");
    need(index);
    long n;
    Arena a = Arena.begin(room(ULONG));
    try {
      long pCount = a.ulong(0);
      check("C_GetInterfaceList", c.C_GetInterfaceList(0, pCount));
      n = a.getUlong(pCount);
    } finally {
      a.end();
    }
    StructLayout l = Layouts.CK_INTERFACE;
    a = Arena.begin(room(n * l.size()) + room(ULONG));
    try {
      long arr = a.alloc(n * l.size());
      long pCount = a.ulong(n);
      check("C_GetInterfaceList", c.C_GetInterfaceList(arr, pCount));
      n = a.getUlong(pCount);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        long name = a.getPointer(arr + (long) i * l.size() + l.offset("pInterfaceName"));
        names.add(name == 0 ? "" : new com.sun.jna.Pointer(name).getString(0, "UTF-8"));
      }
      return names.toArray(new String[0]);
    } finally {
      a.end();
    }
  }

  @Override
  public void C_LoginUser(long session, long userType, char[] pin, String username) {
    need(FunctionTable.index("C_LoginUser"));
    byte[] p = utf8(pin);
    byte[] u = username.getBytes(StandardCharsets.UTF_8);
    Arena a = Arena.begin(room(p.length) + room(u.length));
    try {
      long pp = a.put(p, 0, p.length);
      long pu = a.put(u, 0, u.length);
      check("C_LoginUser", c.C_LoginUser(session, userType, pp, p.length, pu, u.length));
    } finally {
      Arrays.fill(p, (byte) 0);
      a.end();
    }
  }

  @Override
  public void C_SessionCancel(long session, long flags) {
    need(FunctionTable.index("C_SessionCancel"));
    check("C_SessionCancel", c.C_SessionCancel(session, flags));
  }
}
