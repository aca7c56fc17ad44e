package io.hsmkit.provider.keys;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.TokenContext;
import java.security.InvalidKeyException;
import java.security.Key;
import java.util.Arrays;
import java.util.HexFormat;
import javax.security.auth.Destroyable;

/**
 * A reference to a key object in the token: immutable except for its handle, which is looked up
 * again by CKA_ID (or label) when the token says it is no longer valid (after a token restart).
 *
 * <p>Nothing secret is held in the JVM: {@link #getEncoded()} and {@link #getFormat()} are null
 * for sensitive or non-extractable keys, as JCA asks of keys that cannot be exported. (Tomcat
 * copies a private key whose format is "PKCS#8" into a software keystore; a null format keeps the
 * key in the token.)
 */
public abstract class HsmKey implements Key, Destroyable {
  private static final long serialVersionUID = 1L;

  private final transient TokenContext token;
  private volatile long handle;
  private final long objectClass;
  private final long keyType;
  private final byte[] id;
  private final String label;
  private final boolean tokenObject;
  private final boolean sensitive;
  private final boolean extractable;
  private final String algorithm;
  /**
   * A key of a provider over a cluster: named by class and CKA_ID, since each member has its own
   * handle for it. Its {@link #handle()} is CK_INVALID_HANDLE (0), so that code that is not
   * cluster-aware fails with the token's CKR_*_HANDLE_INVALID instead of using the handle of one
   * member on another (where the number may name another object).
   */
  private final boolean clustered;

  protected HsmKey(KeyInfo info, String algorithm) {
    this.token = info.token();
    this.clustered = info.token() != null && info.token().isCluster();
    this.handle = clustered ? 0 : info.handle();
    this.objectClass = info.objectClass();
    this.keyType = info.keyType();
    this.id = info.id() == null ? null : info.id().clone();
    this.label = info.label();
    this.tokenObject = info.tokenObject();
    this.sensitive = info.sensitive();
    this.extractable = info.extractable();
    this.algorithm = algorithm;
  }

  /** What the token said about a key object, read in one C_GetAttributeValue. */
  public record KeyInfo(TokenContext token, long handle, long objectClass, long keyType, byte[] id, String label,
      boolean tokenObject, boolean sensitive, boolean extractable) {}

  /** Destroys session objects whose keys became unreachable (as SunPKCS11 does for its session keys). */
  private static final java.lang.ref.Cleaner SESSION_OBJECTS = java.lang.ref.Cleaner.create();

  /**
   * For the code that has just created this key's object: when it is a session object, destroys it
   * once this key is unreachable, so that keys made for a moment (JSSE's ephemeral ECDHE pairs, the
   * public keys of parsed certificates) do not pile up in the token. Token objects are left alone.
   * Only the creator calls this, once: another HsmKey for the same handle must not own it.
   */
  public final void destroyWhenUnreachable() {
    if (!tokenObject && token != null) {
      SESSION_OBJECTS.register(this, new DestroySessionObject(token, handle, token.pool().generation()));
    }
  }

  /** Holds no reference to the key, only what destroying its object takes. */
  private record DestroySessionObject(TokenContext token, long handle, long generation) implements Runnable {
    @Override
    public void run() {
      // Only while the pool that made the object is open and has not recovered since: otherwise the
      // object died with its session, and the handle number may name another object now (a closed
      // provider's library may have been finalized and initialized again by someone else).
      if (token.pool().isClosed() || token.pool().generation() != generation) {
        return;
      }
      try {
        token.executeForObjects(s -> {
          s.destroyObject(handle);
          return null;
        });
      } catch (Exception ignored) {
        // the provider was closed, the token restarted or the object is already gone
      }
    }
  }

  /** The token this key lives in. */
  public TokenContext token() {
    return token;
  }

  /** Whether this is a key of a cluster, named by class and CKA_ID (see {@link #handle()}). */
  public boolean isClustered() {
    return clustered;
  }

  /** The object handle (valid in every session of this application); 0 for a cluster key. */
  public long handle() {
    return handle;
  }

  public long objectClass() {
    return objectClass;
  }

  /** CKK_ value. */
  public long keyType() {
    return keyType;
  }

  /** CKA_ID, or null. */
  public byte[] id() {
    return id == null ? null : id.clone();
  }

  /** CKA_LABEL, or null. */
  public String label() {
    return label;
  }

  /** True for a token (persistent) object, false for a session object. */
  public boolean isTokenObject() {
    return tokenObject;
  }

  public boolean isSensitive() {
    return sensitive;
  }

  public boolean isExtractable() {
    return extractable;
  }

  /** True when this key lives in {@code t}: the test that keeps keys of another token out. */
  public boolean belongsTo(TokenContext t) {
    return token == t;
  }

  @Override
  public String getAlgorithm() {
    return algorithm;
  }

  /** Null: the key material stays in the token. Subclasses that can export say otherwise. */
  @Override
  public String getFormat() {
    return null;
  }

  @Override
  public byte[] getEncoded() {
    return null;
  }

  /**
   * Finds the object again after its handle went stale: by CKA_CLASS and CKA_ID, else CKA_LABEL.
   * Session objects cannot be found again once their session is gone.
   */
  public long refind(Session s) throws InvalidKeyException {
    if (!tokenObject) {
      throw new InvalidKeyException("the session key is gone (its token restarted or logged out)");
    }
    Attribute match = id != null ? Attribute.bytes(CKA.ID, id) : label != null ? Attribute.string(CKA.LABEL, label) : null;
    if (match == null) {
      throw new InvalidKeyException("the key has neither CKA_ID nor CKA_LABEL to be found again by");
    }
    long[] found = s.findObjects(2, Attribute.ulong(CKA.CLASS, objectClass), Attribute.ulong(CKA.KEY_TYPE, keyType), match);
    if (found.length != 1) {
      throw new InvalidKeyException(found.length == 0 ? "the key is no longer in the token" : "the key's CKA_ID is no longer unique");
    }
    if (clustered) {
      return found[0]; // that member's handle: valid on the member of s only, so not kept
    }
    handle = found[0];
    return handle;
  }

  @Override
  public boolean equals(Object o) {
    if (clustered) {
      return o instanceof HsmKey k && k.token == token && k.objectClass == objectClass && Arrays.equals(k.id, id);
    }
    return o instanceof HsmKey k && k.token == token && k.handle == handle && k.objectClass == objectClass;
  }

  @Override
  public int hashCode() {
    if (clustered) {
      return Arrays.hashCode(id) * 31 + Long.hashCode(objectClass);
    }
    return Long.hashCode(handle) * 31 + Long.hashCode(objectClass);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + algorithm + ", handle=" + handle
        + (label == null ? "" : ", label=" + label) + (id == null ? "" : ", id=" + HexFormat.of().formatHex(id))
        + (tokenObject ? ", token" : ", session") + (sensitive ? ", sensitive" : "") + (extractable ? ", extractable" : "") + "]";
  }

  /** For equality of ids in subclasses. */
  protected static boolean sameId(byte[] a, byte[] b) {
    return Arrays.equals(a, b);
  }
}
