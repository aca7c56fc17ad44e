package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.TokenContext;
import java.lang.ref.Cleaner;

/**
 * A pooled session held for one multi-part encryption (C_EncryptInit, C_EncryptUpdate...,
 * C_EncryptFinal) across Cipher.update calls. The session goes back to the pool when the operation
 * ends, when the Cipher is re-initialised or reset ({@link #abort()}), and, for a Cipher dropped
 * half-way, when a {@link Cleaner} finds it unreachable, so the pool never counts it as leaked.
 *
 * <p>It never hands back a session with an operation still running. A v2.40 library such as
 * SoftHSM2 2.6.1 has no C_SessionCancel, so the pool would close that session, and closing a
 * session destroys the session objects created in it (imported or unwrapped session keys).
 * {@link #abort()} therefore finishes the operation with C_EncryptFinal into a scratch buffer,
 * whose output is wiped and dropped, before returning the session.
 *
 * <p>Not thread-safe, like the Cipher that owns it.
 */
final class CipherSession {
  private static final Cleaner CLEANER = Cleaner.create();

  private final Held held;
  private final Cleaner.Cleanable cleanable;

  /** The state the Cleaner may act on: the session, without a reference back to its owner. */
  private static final class Held implements Runnable {
    private Session session;

    Held(Session session) {
      this.session = session;
    }

    @Override
    public void run() {
      Session s = session;
      session = null;
      if (s == null) {
        return;
      }
      try {
        if ((s.activeOperations() & Session.OP_ENCRYPT) != 0) {
          finishQuietly(s);
        }
      } finally {
        s.close();
      }
    }

    /** Ends the running encryption; every error also ends it, except CKR_BUFFER_TOO_SMALL. */
    private static void finishQuietly(Session s) {
      int room = 64;
      for (int attempt = 0; attempt < 3 && (s.activeOperations() & Session.OP_ENCRYPT) != 0; attempt++) {
        byte[] scratch = new byte[room];
        try {
          s.encryptFinal(scratch, 0, scratch.length);
        } catch (Pkcs11Exception e) {
          if (!e.is(CKR.BUFFER_TOO_SMALL) || e.requiredLength() <= room || e.requiredLength() > Integer.MAX_VALUE - 8) {
            return;
          }
          room = (int) e.requiredLength();
        } finally {
          CipherSupport.wipe(scratch);
        }
      }
    }
  }

  private CipherSession(Session session) {
    this.held = new Held(session);
    this.cleanable = CLEANER.register(this, held);
  }

  /** Borrows a session and starts an encryption on it; the session is returned if the start fails. */
  static CipherSession startEncrypt(TokenContext token, Mechanism m, long key) {
    Session s = token.borrow();
    try {
      s.encryptInit(m, key);
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    return new CipherSession(s);
  }

  /** C_EncryptUpdate; a failure other than CKR_BUFFER_TOO_SMALL ended the operation and returns the session. */
  int update(byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen) {
    Session s = live();
    try {
      return s.encryptUpdate(in, inOff, inLen, out, outOff, outLen);
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.BUFFER_TOO_SMALL)) {
        abort();
      }
      throw e;
    }
  }

  /** C_EncryptFinal, then the session goes back (unless the token asked for more room). */
  int finish(byte[] out, int outOff, int outLen) {
    Session s = live();
    try {
      int n = s.encryptFinal(out, outOff, outLen);
      abort();
      return n;
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.BUFFER_TOO_SMALL)) {
        abort();
      }
      throw e;
    }
  }

  /** Ends the operation if it is still running and returns the session; idempotent. */
  void abort() {
    cleanable.clean();
  }

  private Session live() {
    Session s = held.session;
    if (s == null) {
      throw new IllegalStateException("the multi-part operation has ended");
    }
    return s;
  }
}
