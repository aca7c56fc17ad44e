package io.hsmkit.pkcs11;

import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.SessionInfo;
import io.hsmkit.pkcs11.raw.SinglePart;
import java.util.Arrays;
import java.util.Objects;

/**
 * A PKCS#11 session: the typed operations of one session handle.
 *
 * <p>A single-part operation is exactly one Init call and one data call, with no length query
 * when the caller's output buffer is large enough (the byte[]-returning forms size it from the
 * input and the mechanism, and ask once more only if the library says CKR_BUFFER_TOO_SMALL).
 *
 * <p>The session remembers which operations it has started and not finished ({@link
 * #activeOperations()}), so that a pool can cancel leftovers before handing it to someone else.
 * Not thread-safe: one thread at a time, as PKCS#11 requires of a session.
 *
 * <p>{@link #close()} closes the handle; a session borrowed from a
 * {@link io.hsmkit.pkcs11.session.SessionPool} goes back to its pool instead.
 */
public class Session implements AutoCloseable {
  /** Bits of {@link #activeOperations()}, the same values as the CKF_ flags of C_SessionCancel. */
  public static final int OP_ENCRYPT = 0x100;
  public static final int OP_DECRYPT = 0x200;
  public static final int OP_DIGEST = 0x400;
  public static final int OP_SIGN = 0x800;
  public static final int OP_SIGN_RECOVER = 0x1000;
  public static final int OP_VERIFY = 0x2000;
  public static final int OP_VERIFY_RECOVER = 0x4000;
  /** Not a C_SessionCancel flag: an object search between C_FindObjectsInit and C_FindObjectsFinal. */
  public static final int OP_FIND = 0x4000_0000;

  /** Output room beyond the input for ciphers: a GCM tag, a padding block or a key-wrap IV. */
  private static final int CIPHER_SLACK = 32;
  /** Big enough for RSA-4096 and ECDSA P-521 signatures, and every digest and MAC. */
  private static final int SIGNATURE_ROOM = 512;

  protected final Pkcs11 raw;
  private final long slotId;
  private long handle;
  private int active;

  protected Session(Pkcs11 raw, long slotId, long handle) {
    this.raw = raw;
    this.slotId = slotId;
    this.handle = handle;
  }

  /** Wraps a handle that the caller opened; {@link #close()} closes it. */
  public static Session wrap(Pkcs11 raw, long slotId, long handle) {
    return new Session(raw, slotId, handle);
  }

  public long handle() {
    return handle;
  }

  public long slotId() {
    return slotId;
  }

  /** The raw function layer, for calls this class does not wrap. */
  public Pkcs11 raw() {
    return raw;
  }

  /** Operations started and not yet finished, as OP_ bits. */
  public int activeOperations() {
    return active;
  }

  /** Forgets the record of started operations, after they were cancelled. */
  protected void clearActiveOperations() {
    active = 0;
  }

  public SessionInfo info() {
    return raw.C_GetSessionInfo(handle);
  }

  /** Logs in; an already logged-in token (login is per application, not per session) counts as success. */
  public void login(long userType, char[] pin) {
    try {
      raw.C_Login(handle, userType, pin);
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.USER_ALREADY_LOGGED_IN)) {
        throw e;
      }
    }
  }

  public void logout() {
    raw.C_Logout(handle);
  }

  // ---------------------------------------------------------------- objects

  public long createObject(Attribute... template) {
    return raw.C_CreateObject(handle, template);
  }

  public long copyObject(long object, Attribute... template) {
    return raw.C_CopyObject(handle, object, template);
  }

  public void destroyObject(long object) {
    raw.C_DestroyObject(handle, object);
  }

  public Attribute[] getAttributes(long object, long... types) {
    return raw.C_GetAttributeValue(handle, object, types);
  }

  public Attribute getAttribute(long object, long type) {
    return raw.C_GetAttributeValue(handle, object, type)[0];
  }

  public void setAttributes(long object, Attribute... template) {
    raw.C_SetAttributeValue(handle, object, template);
  }

  /** Every object matching {@code template}; the search is always finished, also on error. */
  public long[] findObjects(Attribute... template) {
    return findObjects(Integer.MAX_VALUE, template);
  }

  /** At most {@code max} objects matching {@code template}. */
  public long[] findObjects(int max, Attribute... template) {
    raw.C_FindObjectsInit(handle, template);
    active |= OP_FIND;
    long[] all = new long[0];
    try {
      while (all.length < max) {
        long[] batch = raw.C_FindObjects(handle, Math.min(64, max - all.length));
        if (batch.length == 0) {
          break;
        }
        int n = all.length;
        all = Arrays.copyOf(all, n + batch.length);
        System.arraycopy(batch, 0, all, n, batch.length);
      }
    } finally {
      active &= ~OP_FIND;
      raw.C_FindObjectsFinal(handle);
    }
    return all;
  }

  // ---------------------------------------------------------------- keys

  public long generateKey(Mechanism mechanism, Attribute... template) {
    return raw.C_GenerateKey(handle, mechanism, template);
  }

  public KeyPairHandles generateKeyPair(Mechanism mechanism, Attribute[] publicTemplate, Attribute[] privateTemplate) {
    return raw.C_GenerateKeyPair(handle, mechanism, publicTemplate, privateTemplate);
  }

  public byte[] wrapKey(Mechanism mechanism, long wrappingKey, long key) {
    return raw.C_WrapKey(handle, mechanism, wrappingKey, key);
  }

  public long unwrapKey(Mechanism mechanism, long unwrappingKey, byte[] wrapped, Attribute... template) {
    return raw.C_UnwrapKey(handle, mechanism, unwrappingKey, wrapped, template);
  }

  public long deriveKey(Mechanism mechanism, long baseKey, Attribute... template) {
    return raw.C_DeriveKey(handle, mechanism, baseKey, template);
  }

  // ---------------------------------------------------------------- single-part operations

  /**
   * Encrypts into {@code out} from {@code outOff}; returns the bytes written. Init and C_Encrypt,
   * in one crossing where the binding's JNI fast path is loaded.
   */
  public int encrypt(Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff) {
    checkRanges(in, inOff, inLen, out, outOff);
    return oneShot(SinglePart.ENCRYPT, m, key, in, inOff, inLen, out, outOff, out.length - outOff);
  }

  public byte[] encrypt(Mechanism m, long key, byte[] in) {
    return oneShot(SinglePart.ENCRYPT, m, key, in, in.length + CIPHER_SLACK);
  }

  public int decrypt(Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff) {
    checkRanges(in, inOff, inLen, out, outOff);
    return oneShot(SinglePart.DECRYPT, m, key, in, inOff, inLen, out, outOff, out.length - outOff);
  }

  public byte[] decrypt(Mechanism m, long key, byte[] in) {
    return oneShot(SinglePart.DECRYPT, m, key, in, Math.max(in.length, 16));
  }

  public int sign(Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff) {
    checkRanges(in, inOff, inLen, out, outOff);
    return oneShot(SinglePart.SIGN, m, key, in, inOff, inLen, out, outOff, out.length - outOff);
  }

  public byte[] sign(Mechanism m, long key, byte[] in) {
    return oneShot(SinglePart.SIGN, m, key, in, SIGNATURE_ROOM);
  }

  /** Verifies; false for CKR_SIGNATURE_INVALID and CKR_SIGNATURE_LEN_RANGE, an exception for anything else. */
  public boolean verify(Mechanism m, long key, byte[] data, byte[] signature) {
    try {
      raw.initAndVerify(handle, m, key, data, 0, data.length, signature, 0, signature.length);
      return true;
    } catch (Pkcs11Exception e) {
      if (e.isAny(CKR.SIGNATURE_INVALID, CKR.SIGNATURE_LEN_RANGE)) {
        return false;
      }
      if (!"C_VerifyInit".equals(e.function())) {
        // Other errors may leave the operation active (SoftHSM2 returns CKR_ARGUMENTS_BAD before it
        // resets): mark it, so a pool cancels it or closes the session before reuse.
        active |= OP_VERIFY;
      }
      throw e;
    }
  }

  public byte[] digest(Mechanism m, byte[] in) {
    return oneShot(SinglePart.DIGEST, m, 0, in, 64);
  }

  public void generateRandom(byte[] out) {
    raw.C_GenerateRandom(handle, out, 0, out.length);
  }

  public byte[] generateRandom(int n) {
    byte[] b = new byte[n];
    raw.C_GenerateRandom(handle, b, 0, n);
    return b;
  }

  /** Checks array ranges before the Init call, so a bad argument leaves no operation in the token. */
  private static void checkRanges(byte[] in, int inOff, int inLen, byte[] out, int outOff) {
    Objects.checkFromIndexSize(inOff, inLen, in.length);
    Objects.checkIndex(outOff, out.length + 1);
  }

  private static int bit(SinglePart p) {
    switch (p) {
      case ENCRYPT:
        return OP_ENCRYPT;
      case DECRYPT:
        return OP_DECRYPT;
      case SIGN:
        return OP_SIGN;
      case DIGEST:
        return OP_DIGEST;
      default:
        throw new AssertionError(p);
    }
  }

  /**
   * Init and the single-part call. Only CKR_BUFFER_TOO_SMALL from the second call leaves the
   * operation running (marked active); a failed init or any other error ends it.
   */
  private int oneShot(SinglePart p, Mechanism m, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    try {
      return raw.initAndRun(p, handle, m, key, in, inOff, inLen, out, outOff, outLen);
    } catch (Pkcs11Exception e) {
      if (e.is(CKR.BUFFER_TOO_SMALL) && p.dataFunction().equals(e.function())) {
        active |= bit(p);
      }
      throw e;
    }
  }

  /** The byte[]-returning form: a buffer of {@code guess} bytes, and one more call if the library needs more. */
  private byte[] oneShot(SinglePart p, Mechanism m, long key, byte[] in, int guess) {
    byte[] out = new byte[guess];
    int n;
    try {
      n = raw.initAndRun(p, handle, m, key, in, 0, in.length, out, 0, out.length);
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.BUFFER_TOO_SMALL) || !p.dataFunction().equals(e.function())) {
        throw e;
      }
      int op = bit(p);
      active |= op;
      if (e.requiredLength() <= guess || e.requiredLength() > Integer.MAX_VALUE - 8) {
        throw e;
      }
      out = new byte[(int) e.requiredLength()];
      try {
        n = singlePart(op, in, 0, in.length, out, 0, out.length);
      } catch (Pkcs11Exception e2) {
        if (!e2.is(CKR.BUFFER_TOO_SMALL)) {
          active &= ~op;
        }
        throw e2;
      }
      active &= ~op;
    }
    if (n == out.length) {
      return out;
    }
    byte[] exact = Arrays.copyOf(out, n);
    if (p == SinglePart.DECRYPT) {
      Arrays.fill(out, (byte) 0); // plaintext: leave no second copy behind
    }
    return exact;
  }

  private int singlePart(int op, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    switch (op) {
      case OP_ENCRYPT:
        return raw.C_Encrypt(handle, in, inOff, inLen, out, outOff, outLen);
      case OP_DECRYPT:
        return raw.C_Decrypt(handle, in, inOff, inLen, out, outOff, outLen);
      case OP_SIGN:
        return raw.C_Sign(handle, in, inOff, inLen, out, outOff, outLen);
      case OP_DIGEST:
        return raw.C_Digest(handle, in, inOff, inLen, out, outOff, outLen);
      default:
        throw new AssertionError(op);
    }
  }

  // ---------------------------------------------------------------- multi-part operations

  public void encryptInit(Mechanism m, long key) {
    raw.C_EncryptInit(handle, m, key);
    active |= OP_ENCRYPT;
  }

  public int encryptUpdate(byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return update(OP_ENCRYPT, in, inOff, inLen, out, outOff, outLen);
  }

  public int encryptFinal(byte[] out, int outOff, int outLen) {
    return finalPart(OP_ENCRYPT, out, outOff, outLen);
  }

  public void decryptInit(Mechanism m, long key) {
    raw.C_DecryptInit(handle, m, key);
    active |= OP_DECRYPT;
  }

  public int decryptUpdate(byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    return update(OP_DECRYPT, in, inOff, inLen, out, outOff, outLen);
  }

  public int decryptFinal(byte[] out, int outOff, int outLen) {
    return finalPart(OP_DECRYPT, out, outOff, outLen);
  }

  public void signInit(Mechanism m, long key) {
    raw.C_SignInit(handle, m, key);
    active |= OP_SIGN;
  }

  public void signUpdate(byte[] in, int inOff, int inLen) {
    try {
      raw.C_SignUpdate(handle, in, inOff, inLen);
    } catch (Pkcs11Exception e) {
      active &= ~OP_SIGN;
      throw e;
    }
  }

  public int signFinal(byte[] out, int outOff, int outLen) {
    return finalPart(OP_SIGN, out, outOff, outLen);
  }

  public void verifyInit(Mechanism m, long key) {
    raw.C_VerifyInit(handle, m, key);
    active |= OP_VERIFY;
  }

  public void verifyUpdate(byte[] in, int inOff, int inLen) {
    try {
      raw.C_VerifyUpdate(handle, in, inOff, inLen);
    } catch (Pkcs11Exception e) {
      active &= ~OP_VERIFY;
      throw e;
    }
  }

  /** Finishes a multi-part verification: false for a bad signature. */
  public boolean verifyFinal(byte[] signature) {
    try {
      raw.C_VerifyFinal(handle, signature, 0, signature.length);
      active &= ~OP_VERIFY;
      return true;
    } catch (Pkcs11Exception e) {
      if (e.isAny(CKR.SIGNATURE_INVALID, CKR.SIGNATURE_LEN_RANGE)) {
        active &= ~OP_VERIFY;
        return false;
      }
      throw e; // the operation may still be active: see verify()
    }
  }

  public void digestInit(Mechanism m) {
    raw.C_DigestInit(handle, m);
    active |= OP_DIGEST;
  }

  public void digestUpdate(byte[] in, int inOff, int inLen) {
    try {
      raw.C_DigestUpdate(handle, in, inOff, inLen);
    } catch (Pkcs11Exception e) {
      active &= ~OP_DIGEST;
      throw e;
    }
  }

  public int digestFinal(byte[] out, int outOff, int outLen) {
    return finalPart(OP_DIGEST, out, outOff, outLen);
  }

  private int update(int op, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    try {
      return op == OP_ENCRYPT
          ? raw.C_EncryptUpdate(handle, in, inOff, inLen, out, outOff, outLen)
          : raw.C_DecryptUpdate(handle, in, inOff, inLen, out, outOff, outLen);
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.BUFFER_TOO_SMALL)) {
        active &= ~op;
      }
      throw e;
    }
  }

  private int finalPart(int op, byte[] out, int outOff, int outLen) {
    try {
      int n;
      switch (op) {
        case OP_ENCRYPT -> n = raw.C_EncryptFinal(handle, out, outOff, outLen);
        case OP_DECRYPT -> n = raw.C_DecryptFinal(handle, out, outOff, outLen);
        case OP_SIGN -> n = raw.C_SignFinal(handle, out, outOff, outLen);
        case OP_DIGEST -> n = raw.C_DigestFinal(handle, out, outOff, outLen);
        default -> throw new AssertionError(op);
      }
      if (out != null) {
        active &= ~op; // a NULL output only asked the length; the operation goes on
      }
      return n;
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.BUFFER_TOO_SMALL)) {
        active &= ~op;
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------- closing

  /** Closes the session handle. A handle that is already gone is not an error here. */
  @Override
  public void close() {
    long h = handle;
    if (h == 0) {
      return;
    }
    handle = 0;
    try {
      raw.C_CloseSession(h);
    } catch (Pkcs11Exception e) {
      if (!e.isAny(CKR.SESSION_HANDLE_INVALID, CKR.SESSION_CLOSED, CKR.DEVICE_REMOVED, CKR.TOKEN_NOT_PRESENT, CKR.CRYPTOKI_NOT_INITIALIZED)) {
        throw e;
      }
    }
  }

  /** Marks this object as no longer owning a handle (the pool took it back). */
  protected void detach() {
    handle = 0;
    active = 0;
  }

  @Override
  public String toString() {
    return "Session[slot=" + slotId + ", handle=" + handle + "]";
  }
}
