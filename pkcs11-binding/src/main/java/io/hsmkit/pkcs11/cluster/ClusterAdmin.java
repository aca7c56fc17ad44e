package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKD;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.TokenSelector;
import java.nio.charset.StandardCharsets;

/**
 * The security officer's part of a cluster: making the cluster wrapping key and giving it to a new
 * member, with standard PKCS#11 only, the key never in the clear.
 *
 * <p>The cluster wrapping key is AES-256, a public token object (the SO can only make public
 * objects) with CKA_TRUSTED (only the SO may set it), CKA_WRAP and CKA_UNWRAP, sensitive, and
 * extractable only under another trusted key (CKA_WRAP_WITH_TRUSTED), so a user cannot wrap it
 * under a key whose value they know. Replicated user keys carry CKA_WRAP_WITH_TRUSTED, so the
 * cluster wrapping key is the only key they can leave a token under.
 *
 * <p>{@link #join}: the new member and a member that has the key each make an ephemeral P-256 key
 * pair (session objects); CKM_ECDH1_DERIVE gives each token the same AES-256 key, which the SO
 * derives as CKA_TRUSTED (wrap side) and CKA_UNWRAP (unwrap side); the source wraps the cluster key
 * under it (CKM_AES_KEY_WRAP) and the new member unwraps it. Only the two public points and the
 * wrapped key pass through this process. SoftHSM2 2.6.1 accepts only CKD_NULL for ECDH, so the
 * derived key is the shared x coordinate; it lives for one session and wraps one key.
 *
 * <p>These run with the SO logged in, which PKCS#11 refuses while the same application is logged
 * in as the user on that token (CKR_USER_ANOTHER_ALREADY_LOGGED_IN): run them before the
 * {@link Cluster} opens its pools, or from another process (the {@code hsmkit cluster} verbs).
 * They are quorum {@code token} actions in the CLI.
 */
public final class ClusterAdmin {
  /** The CKA_ID and label of the cluster wrapping key on every member. */
  public static final String WRAP_KEY_LABEL = "hsmkit-cluster-wrap";

  static final byte[] WRAP_KEY_ID = WRAP_KEY_LABEL.getBytes(StandardCharsets.US_ASCII);

  /** The CKA_ID and label of each member's identity key pair (EC P-256, made by the SO). */
  public static final String IDENTITY_LABEL = "hsmkit-cluster-identity";

  static final byte[] IDENTITY_ID = IDENTITY_LABEL.getBytes(StandardCharsets.US_ASCII);

  /** DER OID of P-256 (secp256r1), the curve of the ephemeral ECDH keys. */
  static final byte[] P256 = {0x06, 0x08, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x03, 0x01, 0x07};

  private ClusterAdmin() {}

  /** One token and its SO PIN (the PIN is wiped by {@link #close}). */
  public record SoToken(Pkcs11Module module, TokenSelector selector, Pin soPin) implements AutoCloseable {
    Session open() {
      Slot slot = selector.find(module).orElseThrow(() -> new IllegalStateException("no token found for " + selector));
      Session s = slot.openSession(true);
      try {
        s.login(CKU.SO, soPin.chars());
      } catch (Pkcs11Exception e) {
        s.close();
        throw e;
      }
      return s;
    }

    @Override
    public void close() {
      soPin.close();
    }
  }

  /** Whether the token holds a cluster wrapping key (looked up in a public session). */
  public static boolean hasWrapKey(Session s) {
    return s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, WRAP_KEY_ID)).length > 0;
  }

  static long wrapKey(Session s) {
    long[] h = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, WRAP_KEY_ID));
    if (h.length != 1) {
      throw new IllegalStateException(h.length + " cluster wrapping keys on the token (want 1); run cluster init / add");
    }
    return h[0];
  }

  /** The attributes of the cluster wrapping key, wherever it is made or unwrapped. */
  private static Attribute[] wrapKeyTemplate(boolean withClassAndType) {
    Attribute[] common = {
        Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.bool(CKA.TRUSTED, true),
        Attribute.bool(CKA.WRAP, true), Attribute.bool(CKA.UNWRAP, true),
        Attribute.bool(CKA.ENCRYPT, false), Attribute.bool(CKA.DECRYPT, false),
        Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true),
        Attribute.string(CKA.LABEL, WRAP_KEY_LABEL), Attribute.bytes(CKA.ID, WRAP_KEY_ID)};
    if (!withClassAndType) {
      return common;
    }
    Attribute[] t = new Attribute[common.length + 2];
    t[0] = Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY);
    t[1] = Attribute.ulong(CKA.KEY_TYPE, CKK.AES);
    System.arraycopy(common, 0, t, 2, common.length);
    return t;
  }

  /**
   * Makes the cluster wrapping key on the first member.
   *
   * @throws IllegalStateException when the token already has one (a cluster exists there)
   */
  public static void initialize(SoToken first) {
    try (Session s = first.open()) {
      if (hasWrapKey(s)) {
        throw new IllegalStateException("the token already holds a cluster wrapping key");
      }
      Attribute[] common = wrapKeyTemplate(false);
      Attribute[] t = new Attribute[common.length + 1];
      System.arraycopy(common, 0, t, 0, common.length);
      t[common.length] = Attribute.ulong(CKA.VALUE_LEN, 32);
      s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), t);
      logoutQuietly(s);
    }
  }

  /** Gives {@code target} the cluster wrapping key of {@code source} (see the class comment). */
  public static void join(SoToken source, SoToken target) {
    try (Session src = source.open(); Session dst = target.open()) {
      try {
        if (hasWrapKey(dst)) {
          throw new IllegalStateException("the new member already holds a cluster wrapping key");
        }
        long cwk = wrapKey(src);
        KeyPairHandles dstPair = ephemeral(dst);
        KeyPairHandles srcPair = ephemeral(src);
        byte[] dstPoint = dst.getAttribute(dstPair.publicKey(), CKA.EC_POINT).value();
        byte[] srcPoint = src.getAttribute(srcPair.publicKey(), CKA.EC_POINT).value();
        long kek = src.deriveKey(ecdh(dstPoint), srcPair.privateKey(), transportTemplate(true));
        byte[] wrapped = src.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), kek, cwk);
        long kdk = dst.deriveKey(ecdh(srcPoint), dstPair.privateKey(), transportTemplate(false));
        dst.unwrapKey(Mechanism.of(CKM.AES_KEY_WRAP), kdk, wrapped, wrapKeyTemplate(true));
        // the session objects (ephemeral pairs, derived keys) go when the sessions close
      } finally {
        logoutQuietly(src);
        logoutQuietly(dst);
      }
    }
  }

  /** Removes the cluster wrapping key from a member that leaves the cluster. */
  public static void leave(SoToken member) {
    try (Session s = member.open()) {
      try {
        for (long h : s.findObjects(4, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, WRAP_KEY_ID))) {
          s.destroyObject(h);
        }
      } finally {
        logoutQuietly(s);
      }
    }
  }

  private static KeyPairHandles ephemeral(Session s) {
    return s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, false), Attribute.bytes(CKA.EC_PARAMS, P256)},
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, false), Attribute.bool(CKA.SENSITIVE, true),
            Attribute.bool(CKA.EXTRACTABLE, false), Attribute.bool(CKA.DERIVE, true)});
  }

  private static Mechanism ecdh(byte[] peerPoint) {
    return Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, peerPoint));
  }

  /** The derived transport key: trusted and wrap-only on the source, unwrap-only on the new member. */
  private static Attribute[] transportTemplate(boolean wrapSide) {
    java.util.List<Attribute> t = new java.util.ArrayList<>(java.util.List.of(
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.ulong(CKA.VALUE_LEN, 32),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, false), Attribute.bool(CKA.SENSITIVE, true),
        Attribute.bool(CKA.EXTRACTABLE, false)));
    if (wrapSide) {
      t.add(Attribute.bool(CKA.TRUSTED, true));
      t.add(Attribute.bool(CKA.WRAP, true));
    } else {
      t.add(Attribute.bool(CKA.UNWRAP, true));
    }
    return t.toArray(Attribute[]::new);
  }

  private static void logoutQuietly(Session s) {
    try {
      s.logout();
    } catch (Pkcs11Exception e) {
      if (!e.isAny(CKR.USER_NOT_LOGGED_IN, CKR.SESSION_HANDLE_INVALID, CKR.SESSION_CLOSED)) {
        throw e;
      }
    }
  }
}
