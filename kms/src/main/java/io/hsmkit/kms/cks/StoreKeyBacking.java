package io.hsmkit.kms.cks;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.PoolTimeoutException;
import io.hsmkit.pkcs11.session.SessionWork;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.Provider;
import java.util.Objects;

/**
 * The {@link KeyBacking} of one token reached through an {@link HsmKitProvider}: for a connected
 * custom key store, the provider is logged in as the store's kmsuser.
 *
 * <p>Errors (always {@link KmsException}): when the token cannot be reached (removed, library
 * finalized, the session pool could not heal within its recovery time), {@code KMS_INVALID_STATE}
 * "custom key store ID cannot reach its token"; the next call tries again, and works by itself once
 * the token is back, because the provider's session pool re-finds the token and logs in again.
 * After {@link #close()} (the store was disconnected) every call is {@code KEY_UNAVAILABLE}.
 * Other token errors are {@code KMS_INTERNAL} naming the CKR code.
 *
 * <p>The keys returned belong to this backing's provider: after the store is disconnected and
 * connected again, find them again through the new backing rather than keeping Key objects.
 */
public final class StoreKeyBacking implements KeyBacking, AutoCloseable {
  private final String customKeyStoreId;
  private final HsmKitProvider provider;
  private volatile boolean closed;

  private StoreKeyBacking(String customKeyStoreId, HsmKitProvider provider) {
    this.customKeyStoreId = customKeyStoreId;
    this.provider = Objects.requireNonNull(provider, "provider");
  }

  /**
   * A backing over {@code provider}'s token (already logged in), for store {@code customKeyStoreId}
   * ({@code null} for the default store). Closing the backing logs the token out and closes the
   * provider's session pool.
   */
  public static StoreKeyBacking on(String customKeyStoreId, HsmKitProvider provider) {
    return new StoreKeyBacking(customKeyStoreId, provider);
  }

  @Override
  public String customKeyStoreId() {
    return customKeyStoreId;
  }

  @Override
  public Provider provider() {
    requireOpen();
    return provider;
  }

  /**
   * Generates the key in the token. When the token already holds a key labelled {@code label} (a
   * retry after the token went away in the middle of the first try, or after a crash), that key
   * is returned instead of a second one, so a label always names one key.
   */
  @Override
  public Key createAes256(String label) {
    requireLabel(label);
    return run("createAes256", s -> {
      long[] existing = s.findObjects(1, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.string(CKA.LABEL, label),
          Attribute.bool(CKA.TOKEN, true));
      long h = existing.length > 0 ? existing[0] : s.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
          Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SENSITIVE, true),
          Attribute.bool(CKA.EXTRACTABLE, false), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true),
          Attribute.string(CKA.LABEL, label), Attribute.bytes(CKA.ID, KeyTemplates.newId()));
      return load(provider, s, h);
    });
  }

  @Override
  public Key find(String label) {
    requireLabel(label);
    return run("find", s -> {
      long[] found = s.findObjects(1, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.string(CKA.LABEL, label),
          Attribute.bool(CKA.TOKEN, true));
      return found.length == 0 ? null : load(provider, s, found[0]);
    });
  }

  @Override
  public void destroy(String label) {
    requireLabel(label);
    run("destroy", s -> {
      for (long h : s.findObjects(Attribute.string(CKA.LABEL, label), Attribute.bool(CKA.TOKEN, true))) {
        try {
          s.destroyObject(h);
        } catch (Pkcs11Exception e) {
          if (!e.is(CKR.OBJECT_HANDLE_INVALID)) { // gone already: a retry, or another node
            throw e;
          }
        }
      }
      return null;
    });
  }

  private static Key load(HsmKitProvider provider, io.hsmkit.pkcs11.Session s, long handle) {
    try {
      // The key remembers the provider's token context, so the provider's Cipher/Mac accept it.
      return HsmKeys.load(provider.tokenContext(), s, handle);
    } catch (InvalidKeyException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "token object " + handle + " is not a key", e);
    }
  }

  private <T> T run(String what, SessionWork<T, RuntimeException> work) {
    requireOpen();
    var token = provider.tokenContext();
    try {
      return token.execute(s -> work.apply(s));
    } catch (Pkcs11Exception e) {
      if (unreachable(e)) {
        throw new KmsException(KmsError.KMS_INVALID_STATE, storeName() + " cannot reach its token (" + e.ckrName() + "); try again when it is back", e);
      }
      throw new KmsException(KmsError.KMS_INTERNAL, storeName() + ": token error " + e.ckrName() + " in " + what, e);
    } catch (PoolTimeoutException e) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, storeName() + " cannot reach its token (no session within the wait time)", e);
    }
  }

  /** The errors that say the token, its sessions or its library went away (or the pool could not heal). */
  static boolean unreachable(Pkcs11Exception e) {
    return e.isAny(CKR.DEVICE_REMOVED, CKR.TOKEN_NOT_PRESENT, CKR.TOKEN_NOT_RECOGNIZED, CKR.SLOT_ID_INVALID, CKR.CRYPTOKI_NOT_INITIALIZED,
        CKR.SESSION_HANDLE_INVALID, CKR.SESSION_CLOSED, CKR.DEVICE_ERROR, CKR.USER_NOT_LOGGED_IN);
  }

  private String storeName() {
    return customKeyStoreId == null ? "the default key store" : "custom key store " + customKeyStoreId;
  }

  private void requireOpen() {
    if (closed) {
      throw new KmsException(KmsError.KEY_UNAVAILABLE, storeName() + " is not connected");
    }
  }

  private static void requireLabel(String label) {
    if (label == null || label.isEmpty()) {
      throw new KmsException(KmsError.VALIDATION, "a token key label must not be empty");
    }
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Logs the token out and closes the provider's sessions; afterwards every call is
   * KEY_UNAVAILABLE. A token that is gone is not an error here.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      provider.logout();
    } catch (javax.security.auth.login.LoginException | RuntimeException ignored) {
      // a token that is unreachable has no login left to end
    }
    provider.tokenContext().close();
  }
}
