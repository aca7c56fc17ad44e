package io.hsmkit.pkcs11.raw;

import io.hsmkit.pkcs11.Pkcs11Exception;

/**
 * Every PKCS#11 function as a typed Java method: all 68 of v2.40 and the v3.0 functions
 * {@code C_LoginUser}, {@code C_SessionCancel}, {@code C_GetInterfaceList} and {@code C_GetInterface}
 * (reported through {@link #functionTableVersion()} and {@link #supports(String)}).
 *
 * <p>This is the seam between Java and the native library: the JNA implementation is the only one
 * in production, and tests inject faults underneath it with a shim library, never above it.
 *
 * <p>Contract shared by all methods:
 * <ul>
 *   <li>A return value other than CKR_OK throws {@link Pkcs11Exception} naming the function and the
 *       code; nothing else is thrown for PKCS#11 errors.
 *   <li>Output methods take {@code (byte[] out, int outOff, int outLen)} and return the number of
 *       bytes written. With {@code out == null} they only ask the length (the C convention of a NULL
 *       output pointer) and return it. When {@code outLen} is too small they throw
 *       {@link Pkcs11Exception} with CKR_BUFFER_TOO_SMALL and {@link Pkcs11Exception#requiredLength()};
 *       the operation stays active, as PKCS#11 says, and may be called again with a larger buffer.
 *   <li>PINs and data pass through native memory that is zeroed when the call returns, or (data
 *       on the JNI fast path) reach the library as the caller's own pinned array. Secret bytes
 *       copied on the way (plaintext, random bytes, PINs) are wiped; ciphertext, signatures and
 *       MACs may be left. The caller owns, and wipes, its own {@code char[]} PINs and arrays.
 *   <li>Methods are safe to call from many threads; one session must be used by one thread at a time.
 * </ul>
 */
public interface Pkcs11 {

  /** The path the library was loaded from. */
  String libraryPath();

  /** Version of the function table in use (2.x from C_GetFunctionList, 3.x from C_GetInterface). */
  Version functionTableVersion();

  /** Whether the library's table has the function {@code name} (for example {@code "C_SessionCancel"}). */
  boolean supports(String name);

  // ---- general purpose

  /** C_Initialize with CK_C_INITIALIZE_ARGS whose {@code flags} are given (CKF_OS_LOCKING_OK normally). */
  void C_Initialize(long flags);

  void C_Finalize();

  Info C_GetInfo();

  /** Reads the function table again, checking it is still there; returns its version. */
  Version C_GetFunctionList();

  // ---- slots and tokens

  long[] C_GetSlotList(boolean tokenPresent);

  SlotInfo C_GetSlotInfo(long slotId);

  TokenInfo C_GetTokenInfo(long slotId);

  long[] C_GetMechanismList(long slotId);

  MechanismInfo C_GetMechanismInfo(long slotId, long mechanism);

  /** @param label at most 32 bytes of UTF-8, padded with blanks by the binding */
  void C_InitToken(long slotId, char[] soPin, String label);

  void C_InitPIN(long session, char[] pin);

  void C_SetPIN(long session, char[] oldPin, char[] newPin);

  // ---- sessions

  long C_OpenSession(long slotId, long flags);

  void C_CloseSession(long session);

  void C_CloseAllSessions(long slotId);

  SessionInfo C_GetSessionInfo(long session);

  byte[] C_GetOperationState(long session);

  void C_SetOperationState(long session, byte[] state, long encryptionKey, long authenticationKey);

  void C_Login(long session, long userType, char[] pin);

  void C_Logout(long session);

  // ---- objects

  long C_CreateObject(long session, Attribute... template);

  long C_CopyObject(long session, long object, Attribute... template);

  void C_DestroyObject(long session, long object);

  long C_GetObjectSize(long session, long object);

  /**
   * Reads attributes. Attributes the token cannot give (sensitive, or not defined for the object)
   * come back without a value instead of failing the call; CKR_ATTRIBUTE_SENSITIVE and
   * CKR_ATTRIBUTE_TYPE_INVALID are not thrown.
   */
  Attribute[] C_GetAttributeValue(long session, long object, long... types);

  void C_SetAttributeValue(long session, long object, Attribute... template);

  void C_FindObjectsInit(long session, Attribute... template);

  long[] C_FindObjects(long session, int maxCount);

  void C_FindObjectsFinal(long session);

  // ---- encryption and decryption

  void C_EncryptInit(long session, Mechanism mechanism, long key);

  int C_Encrypt(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_EncryptUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_EncryptFinal(long session, byte[] out, int outOff, int outLen);

  void C_DecryptInit(long session, Mechanism mechanism, long key);

  int C_Decrypt(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_DecryptUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_DecryptFinal(long session, byte[] out, int outOff, int outLen);

  // ---- digests

  void C_DigestInit(long session, Mechanism mechanism);

  int C_Digest(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  void C_DigestUpdate(long session, byte[] in, int inOff, int inLen);

  void C_DigestKey(long session, long key);

  int C_DigestFinal(long session, byte[] out, int outOff, int outLen);

  // ---- signatures and MACs

  void C_SignInit(long session, Mechanism mechanism, long key);

  int C_Sign(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  void C_SignUpdate(long session, byte[] in, int inOff, int inLen);

  int C_SignFinal(long session, byte[] out, int outOff, int outLen);

  void C_SignRecoverInit(long session, Mechanism mechanism, long key);

  int C_SignRecover(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  void C_VerifyInit(long session, Mechanism mechanism, long key);

  /** Throws CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE for a bad signature. */
  void C_Verify(long session, byte[] data, int dataOff, int dataLen, byte[] signature, int sigOff, int sigLen);

  void C_VerifyUpdate(long session, byte[] in, int inOff, int inLen);

  void C_VerifyFinal(long session, byte[] signature, int sigOff, int sigLen);

  void C_VerifyRecoverInit(long session, Mechanism mechanism, long key);

  int C_VerifyRecover(long session, byte[] signature, int sigOff, int sigLen, byte[] out, int outOff, int outLen);

  // ---- init and single-part call together

  /**
   * The init call of {@code op} ({@code C_EncryptInit}, {@code C_DecryptInit}, {@code C_SignInit}
   * or {@code C_DigestInit}, which ignores {@code key}) followed by its single-part call, as one
   * step: an implementation may make both in one crossing to the library. The output contract is
   * that of the single-part call. A failure throws {@link Pkcs11Exception} naming the function that
   * failed: after a failed init no operation is active; after CKR_BUFFER_TOO_SMALL from the
   * single-part call the operation stays active, as it would after that call alone.
   */
  default int initAndRun(SinglePart op, long session, Mechanism mechanism, long key, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    // Ranges first: a bad one must not leave an initialised operation behind.
    checkRange(in, inOff, inLen, "in");
    if (out != null) {
      java.util.Objects.checkFromIndexSize(outOff, outLen, out.length);
    }
    switch (op) {
      case ENCRYPT:
        C_EncryptInit(session, mechanism, key);
        return C_Encrypt(session, in, inOff, inLen, out, outOff, outLen);
      case DECRYPT:
        C_DecryptInit(session, mechanism, key);
        return C_Decrypt(session, in, inOff, inLen, out, outOff, outLen);
      case SIGN:
        C_SignInit(session, mechanism, key);
        return C_Sign(session, in, inOff, inLen, out, outOff, outLen);
      case DIGEST:
        C_DigestInit(session, mechanism);
        return C_Digest(session, in, inOff, inLen, out, outOff, outLen);
      default:
        throw new AssertionError(op);
    }
  }

  /**
   * {@code C_VerifyInit} then {@code C_Verify}, as one step (see {@link #initAndRun}). Throws
   * CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE, naming {@code C_Verify}, for a bad signature.
   */
  default void initAndVerify(long session, Mechanism mechanism, long key, byte[] data, int dataOff, int dataLen, byte[] signature, int sigOff, int sigLen) {
    checkRange(data, dataOff, dataLen, "data");
    checkRange(signature, sigOff, sigLen, "signature");
    C_VerifyInit(session, mechanism, key);
    C_Verify(session, data, dataOff, dataLen, signature, sigOff, sigLen);
  }

  /**
   * The input-range rule of every method here, checked before any native call: a null array is
   * allowed for length 0 only (NullPointerException naming {@code what}); otherwise the range must
   * lie inside it (IndexOutOfBoundsException).
   */
  static void checkRange(byte[] b, int off, int len, String what) {
    if (b == null) {
      if (len != 0) {
        throw new NullPointerException(what);
      }
      return;
    }
    java.util.Objects.checkFromIndexSize(off, len, b.length);
  }

  // ---- dual-function

  int C_DigestEncryptUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_DecryptDigestUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_SignEncryptUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  int C_DecryptVerifyUpdate(long session, byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen);

  // ---- keys

  long C_GenerateKey(long session, Mechanism mechanism, Attribute... template);

  KeyPairHandles C_GenerateKeyPair(long session, Mechanism mechanism, Attribute[] publicTemplate, Attribute[] privateTemplate);

  /** Wraps {@code key}; the output length is found by the binding (no separate length query when it fits 8 KiB). */
  byte[] C_WrapKey(long session, Mechanism mechanism, long wrappingKey, long key);

  long C_UnwrapKey(long session, Mechanism mechanism, long unwrappingKey, byte[] wrapped, Attribute... template);

  long C_DeriveKey(long session, Mechanism mechanism, long baseKey, Attribute... template);

  // ---- random

  void C_SeedRandom(long session, byte[] seed, int off, int len);

  void C_GenerateRandom(long session, byte[] out, int off, int len);

  // ---- legacy parallel functions and events

  void C_GetFunctionStatus(long session);

  void C_CancelFunction(long session);

  /**
   * C_WaitForSlotEvent. Returns the slot that had an event, or -1 when {@code flags} has
   * CKF_DONT_BLOCK and there was none (CKR_NO_EVENT).
   */
  long C_WaitForSlotEvent(long flags);

  // ---- v3.0

  /** The names of the interfaces the library offers (v3.0 libraries; {@code ["PKCS 11"]} style). */
  String[] C_GetInterfaceList();

  /** C_LoginUser (v3.0): logs in a named user. Throws CKR_FUNCTION_NOT_SUPPORTED on v2.x libraries. */
  void C_LoginUser(long session, long userType, char[] pin, String username);

  /** C_SessionCancel (v3.0): cancels the operations named by {@code flags} (CKF_ENCRYPT, ...). */
  void C_SessionCancel(long session, long flags);
}
