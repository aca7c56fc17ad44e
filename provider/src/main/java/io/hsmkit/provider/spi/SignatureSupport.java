package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import java.security.InvalidKeyException;

/**
 * What the Signature and Mac SPIs share about talking to the token: single-part work that finds a
 * key again when its handle went stale, and multi-part operations on a borrowed session that are
 * always finished before the session goes back.
 *
 * <p>Why finish instead of just returning the session: SoftHSM2 2.6.1 is a v2.40 library without
 * C_SessionCancel, so the pool closes a session that comes back with an operation active, and
 * closing a session destroys the session objects created in it (imported public keys, session
 * keys). A half-done C_SignUpdate is therefore ended here with C_SignFinal (result discarded), a
 * half-done verification with C_VerifyFinal over a one-byte signature (the token answers
 * CKR_SIGNATURE_LEN_RANGE and ends the operation).
 */
final class SignatureSupport {
  private SignatureSupport() {}

  /**
   * Data kept in memory before a token-side multi-part operation starts (C_SignInit and
   * C_SignUpdate on a session held until sign/verify/doFinal). Below it, data is buffered and sent
   * in one C_Sign, which holds no session between update calls and is faster; above it, streaming
   * is faster and memory stays bounded. 64 KiB is where the two cost the same (measured; the table
   * is in {@link TokenMac}'s Javadoc).
   */
  static final int STREAM_AFTER = 64 * 1024;

  /** Largest signature or MAC any mechanism here returns (RSA-16384: 2048 bytes). */
  static final int MAX_OUTPUT = 2048;

  /** Work on a session with the key's current handle. */
  @FunctionalInterface
  interface KeyWork<T> {
    T apply(Session s, long handle);
  }

  static boolean stale(Pkcs11Exception e) {
    return e.isAny(CKR.KEY_HANDLE_INVALID, CKR.OBJECT_HANDLE_INVALID);
  }

  /**
   * Runs {@code work} as one complete operation on a pooled session; when the token says the key
   * handle is no longer valid (the token came back after a restart), the key is found again by
   * CKA_ID and the work runs once more.
   *
   * @throws InvalidKeyException when the key is gone from the token
   */
  static <T> T withKey(TokenContext token, HsmKey key, KeyWork<T> work) throws InvalidKeyException {
    if (token.isCluster()) {
      return onCluster(token, key, work);
    }
    return token.execute(s -> {
      try {
        return work.apply(s, key.handle());
      } catch (Pkcs11Exception e) {
        if (!stale(e) || !key.isTokenObject()) {
          throw e;
        }
        return work.apply(s, key.refind(s));
      }
    });
  }

  /**
   * {@link #withKey} over a cluster: the work runs on a member the cluster chooses, with that
   * member's handle for the key (by class and CKA_ID), and moves to another member after a device
   * error; this is a complete one-shot operation, safe to repeat.
   */
  private static <T> T onCluster(TokenContext token, HsmKey key, KeyWork<T> work) throws InvalidKeyException {
    try {
      return token.executeWithKey(key.objectClass(), key.id(), work::apply);
    } catch (KeyMissingException e) {
      InvalidKeyException ike = new InvalidKeyException("the key is on no healthy member of the cluster");
      ike.initCause(e);
      throw ike;
    }
  }

  /**
   * Whether an operation with {@code pending} bytes so far should start streaming on a held
   * session. Never over a cluster: a held session ties the operation to one member, and a member
   * lost half-way could not be replaced; the data is kept and sent whole, so the operation can run
   * again elsewhere.
   */
  static boolean streams(TokenContext token, long pending) {
    return pending > STREAM_AFTER && !token.isCluster();
  }

  /**
   * Borrows a session and starts a multi-part operation on it (C_SignInit or C_VerifyInit); the
   * session is returned at once when starting fails.
   */
  static Session begin(TokenContext token, HsmKey key, Mechanism m, boolean sign) throws InvalidKeyException {
    Session s = token.borrow();
    try {
      try {
        init(s, m, key.handle(), sign);
      } catch (Pkcs11Exception e) {
        if (!stale(e) || !key.isTokenObject()) {
          throw e;
        }
        init(s, m, key.refind(s), sign);
      }
      return s;
    } catch (RuntimeException | InvalidKeyException e) {
      s.close();
      throw e;
    }
  }

  private static void init(Session s, Mechanism m, long handle, boolean sign) {
    if (sign) {
      s.signInit(m, handle);
    } else {
      s.verifyInit(m, handle);
    }
  }

  /**
   * Ends whatever sign or verify operation {@code s} still has (see the class comment) and returns
   * it to the pool. Never throws; null is ignored.
   */
  static void release(Session s) {
    if (s == null) {
      return;
    }
    try {
      int ops = s.activeOperations();
      if ((ops & Session.OP_SIGN) != 0) {
        try {
          s.signFinal(new byte[MAX_OUTPUT], 0, MAX_OUTPUT);
        } catch (Pkcs11Exception ignored) {
          // the operation ended with the error, or the pool closes the session
        }
      }
      if ((ops & Session.OP_VERIFY) != 0) {
        try {
          s.verifyFinal(new byte[1]);
        } catch (Pkcs11Exception ignored) {
          // as above
        }
      }
    } finally {
      s.close();
    }
  }
}
