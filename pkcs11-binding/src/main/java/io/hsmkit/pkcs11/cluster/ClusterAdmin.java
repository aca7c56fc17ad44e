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
 * <p>The points are authenticated: every member has a long-lived identity key pair (EC P-256,
 * {@value #IDENTITY_LABEL}, made by the SO: sensitive, never extractable, sign only), whose public
 * key's fingerprint ({@code sha256:} and the hex SHA-256 of its CKA_EC_POINT) the operator pins in
 * the cluster file. Each side signs (CKM_ECDSA, in its token) the SHA-256 of a transcript: a
 * version tag, the cluster id, its role, both member names and both ephemeral points as it sees
 * them. Each side checks the other's identity against its pinned fingerprint and verifies the
 * other's signature, both inside its own token (C_Digest, C_Verify), before anything is derived: a
 * swapped point, or a key that is not the pinned one, ends the join with a
 * {@link JoinRefusedException} naming the member, and no key reaches the new member. The SO can
 * only make public objects, so the identity private key is CKA_PRIVATE false: on SoftHSM2 any
 * session of the token can sign with it without a login. It authenticates the token against a
 * relay that cannot use the tokens, not against someone who can load the token's library.
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

  /** Version tag at the start of every join transcript. */
  private static final byte[] TRANSCRIPT_TAG = "hsmkit-cluster-join/1".getBytes(StandardCharsets.US_ASCII);
  private static final java.util.regex.Pattern FINGERPRINT = java.util.regex.Pattern.compile("sha256:[0-9a-f]{64}");

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

  /**
   * Gives {@code target} the cluster wrapping key of {@code source} when both tokens are opened by
   * this process: each gets an identity if it has none, and the fingerprints are taken from the
   * tokens themselves (this process is the one that would check them), then the signed join runs.
   * With members named in a cluster file, use {@link #join(String, Party, Party)} with the pinned
   * fingerprints.
   */
  public static void join(SoToken source, SoToken target) {
    String sf = ensureIdentity(source).fingerprint();
    String tf = ensureIdentity(target).fingerprint();
    join("", new Party("source " + source.selector(), source, sf), new Party("target " + target.selector(), target, tf));
  }

  // ------------------------------------------------------------------ identity

  /**
   * A member's identity as the token holds it.
   *
   * @param fingerprint {@code sha256:<64 hex>} of the public key's CKA_EC_POINT
   * @param created whether this call made the key pair
   */
  public record Identity(String fingerprint, boolean created) {}

  /** Whether {@code f} is a well-formed fingerprint ({@code sha256:} and 64 lower-case hex digits). */
  public static boolean isFingerprint(String f) {
    return f != null && FINGERPRINT.matcher(f).matches();
  }

  /**
   * Makes the member's identity key pair unless the token has one, and returns its fingerprint.
   * Idempotent: an existing identity is never replaced (its fingerprint may be pinned).
   */
  public static Identity ensureIdentity(SoToken token) {
    try (Session s = token.open()) {
      try {
        boolean created = false;
        long[] priv = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.bytes(CKA.ID, IDENTITY_ID));
        long[] pub = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, IDENTITY_ID));
        if (priv.length == 0 && pub.length == 0) {
          s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN), identityPublicTemplate(), identityPrivateTemplate());
          created = true;
        } else if (priv.length != 1 || pub.length != 1) {
          throw new IllegalStateException("the token holds " + priv.length + " identity private and " + pub.length
              + " identity public keys (want 1 and 1)");
        }
        return new Identity(fingerprint(s, identityPoint(s)), created);
      } finally {
        logoutQuietly(s);
      }
    }
  }

  /** The identity key's fingerprint, or empty when the token has none (an SO or public session will do). */
  public static java.util.Optional<String> identityFingerprint(Session s) {
    long[] pub = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, IDENTITY_ID));
    if (pub.length != 1) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(fingerprint(s, s.getAttribute(pub[0], CKA.EC_POINT).value()));
  }

  /**
   * Refuses, naming the member, when {@code actual} is not the {@code pinned} fingerprint.
   *
   * @throws JoinRefusedException on a mismatch
   */
  public static void checkPinned(String member, String pinned, String actual) {
    if (!pinned.equalsIgnoreCase(actual)) {
      throw new JoinRefusedException(member, "its identity key is " + actual + ", not the pinned " + pinned);
    }
  }

  private static Attribute[] identityPublicTemplate() {
    return new Attribute[] {Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.bool(CKA.MODIFIABLE, false),
        Attribute.string(CKA.LABEL, IDENTITY_LABEL), Attribute.bytes(CKA.ID, IDENTITY_ID), Attribute.bytes(CKA.EC_PARAMS, P256),
        Attribute.bool(CKA.VERIFY, true), Attribute.bool(CKA.ENCRYPT, false), Attribute.bool(CKA.WRAP, false),
        Attribute.bool(CKA.DERIVE, false)};
  }

  /** Sign only, never extractable; public because the SO cannot make private objects (see the class comment). */
  private static Attribute[] identityPrivateTemplate() {
    return new Attribute[] {Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.bool(CKA.MODIFIABLE, false),
        Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false), Attribute.string(CKA.LABEL, IDENTITY_LABEL),
        Attribute.bytes(CKA.ID, IDENTITY_ID), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.DECRYPT, false),
        Attribute.bool(CKA.UNWRAP, false), Attribute.bool(CKA.DERIVE, false)};
  }

  private static long identityKey(Session s, String member) {
    long[] h = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.bytes(CKA.ID, IDENTITY_ID));
    if (h.length != 1) {
      throw new JoinRefusedException(member, h.length + " identity keys on the token (want 1): run cluster init or add, which make it");
    }
    return h[0];
  }

  private static byte[] identityPoint(Session s) {
    long[] h = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, IDENTITY_ID));
    if (h.length != 1) {
      throw new IllegalStateException(h.length + " identity public keys on the token (want 1)");
    }
    return s.getAttribute(h[0], CKA.EC_POINT).value();
  }

  /** SHA-256 in the token (the binding uses no JCA), as {@code sha256:<hex>}. */
  static String fingerprint(Session s, byte[] ecPoint) {
    return "sha256:" + java.util.HexFormat.of().formatHex(s.digest(Mechanism.of(CKM.SHA256), ecPoint));
  }

  // ------------------------------------------------------------------ join

  /**
   * One side of a join: the member's name (as in the cluster file), its token with the SO PIN,
   * and the fingerprint pinned for its identity.
   */
  public record Party(String name, SoToken token, String pinnedIdentity) {
    public Party {
      java.util.Objects.requireNonNull(name, "name");
      java.util.Objects.requireNonNull(token, "token");
      if (!isFingerprint(pinnedIdentity)) {
        throw new IllegalArgumentException("member " + name + ": the pinned identity must be sha256:<64 hex digits>");
      }
    }
  }

  /** What one side sends the other: its identity public key and its ephemeral ECDH point (both CKA_EC_POINT). */
  record Offer(byte[] identityPoint, byte[] ephemeralPoint) {}

  /**
   * Whatever carries the messages between the two tokens. In one process it passes them on
   * unchanged; tests tamper with them to show that the join notices.
   */
  interface Relay {
    Relay DIRECT = new Relay() {};

    /** The offer of {@code from}, as the other side receives it. */
    default Offer offer(String from, Offer o) {
      return o;
    }

    /** The transcript signature of {@code from}, as the other side receives it. */
    default byte[] signature(String from, byte[] sig) {
      return sig;
    }
  }

  /**
   * Gives {@code target} the cluster wrapping key of {@code source}, after each side has checked
   * the other's identity against its pinned fingerprint and verified the other's signature over
   * both ephemeral points (see the class comment).
   *
   * @param clusterId the cluster's id (the cluster file's {@code cluster.id}), bound into the transcript
   * @throws JoinRefusedException an identity or signature did not check; nothing was derived or sent
   */
  public static void join(String clusterId, Party source, Party target) {
    join(clusterId, source, target, Relay.DIRECT);
  }

  static void join(String clusterId, Party source, Party target, Relay relay) {
    if (source.name().equals(target.name())) {
      throw new IllegalArgumentException("a member cannot join from itself");
    }
    try (Session src = source.token().open(); Session dst = target.token().open()) {
      try {
        if (hasWrapKey(dst)) {
          throw new IllegalStateException("the new member already holds a cluster wrapping key");
        }
        long cwk = wrapKey(src);
        long srcIdentity = identityKey(src, source.name());
        long dstIdentity = identityKey(dst, target.name());
        KeyPairHandles dstPair = ephemeral(dst);
        KeyPairHandles srcPair = ephemeral(src);
        Offer srcOffer = new Offer(identityPoint(src), src.getAttribute(srcPair.publicKey(), CKA.EC_POINT).value());
        Offer dstOffer = new Offer(identityPoint(dst), dst.getAttribute(dstPair.publicKey(), CKA.EC_POINT).value());
        Offer atDst = relay.offer(source.name(), srcOffer); // the source as the target sees it
        Offer atSrc = relay.offer(target.name(), dstOffer);
        // each side: is the other's identity the pinned one? (digest in its own token)
        checkPinned(source.name(), source.pinnedIdentity(), fingerprint(dst, atDst.identityPoint()));
        checkPinned(target.name(), target.pinnedIdentity(), fingerprint(src, atSrc.identityPoint()));
        // each side signs the transcript as it sees it
        byte[] srcSig = src.sign(Mechanism.of(CKM.ECDSA), srcIdentity,
            transcript(src, clusterId, "source", source.name(), target.name(), srcOffer.ephemeralPoint(), atSrc.ephemeralPoint()));
        byte[] dstSig = dst.sign(Mechanism.of(CKM.ECDSA), dstIdentity,
            transcript(dst, clusterId, "target", source.name(), target.name(), atDst.ephemeralPoint(), dstOffer.ephemeralPoint()));
        byte[] srcSigAtDst = relay.signature(source.name(), srcSig);
        byte[] dstSigAtSrc = relay.signature(target.name(), dstSig);
        // each side verifies the other's signature over the transcript it expects, before deriving anything
        verifyPeer(dst, source.name(), atDst.identityPoint(), srcSigAtDst,
            transcript(dst, clusterId, "source", source.name(), target.name(), atDst.ephemeralPoint(), dstOffer.ephemeralPoint()));
        verifyPeer(src, target.name(), atSrc.identityPoint(), dstSigAtSrc,
            transcript(src, clusterId, "target", source.name(), target.name(), srcOffer.ephemeralPoint(), atSrc.ephemeralPoint()));
        long kek = src.deriveKey(ecdh(atSrc.ephemeralPoint()), srcPair.privateKey(), transportTemplate(true));
        byte[] wrapped = src.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), kek, cwk);
        long kdk = dst.deriveKey(ecdh(atDst.ephemeralPoint()), dstPair.privateKey(), transportTemplate(false));
        dst.unwrapKey(Mechanism.of(CKM.AES_KEY_WRAP), kdk, wrapped, wrapKeyTemplate(true));
        // the session objects (ephemeral pairs, derived keys, the peer's public key) go when the sessions close
      } finally {
        logoutQuietly(src);
        logoutQuietly(dst);
      }
    }
  }

  /** SHA-256 (in the token) of the length-prefixed transcript fields. */
  static byte[] transcript(Session s, String clusterId, String role, String sourceName, String targetName, byte[] sourcePoint,
      byte[] targetPoint) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] field : new byte[][] {TRANSCRIPT_TAG, clusterId.getBytes(StandardCharsets.UTF_8), role.getBytes(StandardCharsets.US_ASCII),
        sourceName.getBytes(StandardCharsets.UTF_8), targetName.getBytes(StandardCharsets.UTF_8), sourcePoint, targetPoint}) {
      int n = field.length;
      out.write(n >>> 24);
      out.write(n >>> 16);
      out.write(n >>> 8);
      out.write(n);
      out.writeBytes(field);
    }
    return s.digest(Mechanism.of(CKM.SHA256), out.toByteArray());
  }

  /** Verifies {@code member}'s signature with its identity public key, imported as a session object. */
  private static void verifyPeer(Session s, String member, byte[] identityPoint, byte[] signature, byte[] hash) {
    long peer;
    try {
      peer = s.createObject(Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.EC),
          Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, false), Attribute.bytes(CKA.EC_PARAMS, P256),
          Attribute.bytes(CKA.EC_POINT, identityPoint), Attribute.bool(CKA.VERIFY, true));
    } catch (Pkcs11Exception e) {
      throw new JoinRefusedException(member, "its identity key is not a P-256 public key (" + e.function() + " " + e.ckrName() + ")");
    }
    boolean ok;
    try {
      ok = s.verify(Mechanism.of(CKM.ECDSA), peer, hash, signature);
    } catch (Pkcs11Exception e) {
      if (!e.isAny(CKR.SIGNATURE_INVALID, CKR.SIGNATURE_LEN_RANGE)) {
        throw e;
      }
      ok = false;
    } finally {
      s.destroyObject(peer);
    }
    if (!ok) {
      throw new JoinRefusedException(member, "the signature over its ephemeral ECDH point does not verify under its identity key");
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
