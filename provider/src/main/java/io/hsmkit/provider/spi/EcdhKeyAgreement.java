package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKD;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.ReplicatedKeys;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyTemplates;
import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECFieldFp;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.EllipticCurve;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.crypto.KeyAgreementSpi;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * ECDH in the token (CKM_ECDH1_DERIVE with CKD_NULL: the shared secret is the x coordinate, as the
 * JDK's ECDH gives it). Our side is an {@link HsmEcPrivateKey} of this token; the peer's is any
 * provider's {@link ECPublicKey}, checked here to be on our curve and not the point at infinity
 * before the token sees it (an invalid-curve point would otherwise leak bits of our key).
 *
 * <ul>
 *   <li>{@link #engineGenerateSecret()} and {@link #engineGenerateSecret(byte[], int)}: the caller
 *       asked for bytes, so the secret is derived as an extractable, non-sensitive session object,
 *       read (CKA_VALUE) and destroyed at once.
 *   <li>{@link #engineGenerateSecret(String)}: the secret stays in the token as a session key,
 *       sensitive and not extractable unless configured otherwise: "AES" gives a 256-bit AES key
 *       (from a secret of at least 32 bytes; where the secret is longer the token decides which 32
 *       bytes it keeps: SoftHSM2 keeps the last ones), "Generic" and "GenericSecret" a generic
 *       secret of the whole shared secret. "TlsPremasterSecret" is the exception: JSSE derives its
 *       TLS keys from it in software, so it is a RAW {@link SecretKeySpec} of the shared secret.
 * </ul>
 *
 * <p><b>Over a cluster</b> our key is a replicated EC private key with CKA_DERIVE (imported through
 * the KeyFactory: the cluster's own EC key generation makes signing keys without CKA_DERIVE). The
 * secret as bytes (and TlsPremasterSecret) is one complete operation on a member (derive an
 * extractable session object, read it, destroy it), moved to another member after a device error.
 * The secret as a key ("AES", "GenericSecret") becomes a replicated cluster key: derived on one
 * member as a token key with CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED, copied to the other
 * members under the trusted cluster key, and handed out once it is on minReplicas members; a
 * session key on one member would be lost to the next operation sent elsewhere. The
 * configuration's key policy does not apply to it (it is a sensitive token key).
 *
 * <p>As in the JDK, generating the secret ends the agreement: the private key stays, the peer's
 * key must be given again with {@code doPhase}.
 */
public final class EcdhKeyAgreement extends KeyAgreementSpi {
  private static final int AES_BYTES = 32;

  private final TokenContext token;
  private HsmEcPrivateKey privateKey;
  private int secretBytes;
  private byte[] peerPoint;

  public EcdhKeyAgreement(TokenContext token) {
    this.token = token;
  }

  @Override
  protected void engineInit(Key key, SecureRandom random) throws InvalidKeyException {
    HsmEcPrivateKey k = HsmKeys.require(key, token, HsmEcPrivateKey.class);
    ECParameterSpec spec = k.getParams();
    if (spec == null || !(spec.getCurve().getField() instanceof ECFieldFp)) {
      throw new InvalidKeyException("ECDH needs a key on a prime-field curve");
    }
    if (spec.getCofactor() != 1) {
      // CKM_ECDH1_DERIVE does not multiply by the cofactor: a small-subgroup point would leak key bits.
      throw new InvalidKeyException("ECDH on curves with cofactor " + spec.getCofactor() + " is not supported");
    }
    privateKey = k;
    secretBytes = Curves.fieldBytes(spec);
    peerPoint = null;
  }

  @Override
  protected void engineInit(Key key, AlgorithmParameterSpec params, SecureRandom random) throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException("ECDH takes no parameters");
    }
    engineInit(key, random);
  }

  @Override
  protected Key engineDoPhase(Key key, boolean lastPhase) throws InvalidKeyException {
    if (privateKey == null) {
      throw new IllegalStateException("not initialized");
    }
    if (!lastPhase) {
      throw new IllegalStateException("ECDH has one phase: call doPhase(key, true)");
    }
    if (!(key instanceof ECPublicKey pub)) {
      throw new InvalidKeyException("the peer's key must be an ECPublicKey, not " + (key == null ? "null" : key.getClass().getName()));
    }
    peerPoint = validPoint(pub, privateKey.getParams());
    return null;
  }

  /**
   * The uncompressed encoding of {@code pub}'s point after checking that it lies on {@code ours}'
   * curve: same curve, generator, order and cofactor; not the point at infinity; coordinates in
   * [0, p) that satisfy y^2 = x^3 + ax + b (mod p).
   */
  static byte[] validPoint(ECPublicKey pub, ECParameterSpec ours) throws InvalidKeyException {
    ECParameterSpec theirs = pub.getParams();
    if (theirs == null || !sameCurve(ours, theirs)) {
      throw new InvalidKeyException("the peer's key is on another curve than ours");
    }
    ECPoint w = pub.getW();
    if (w == null || ECPoint.POINT_INFINITY.equals(w) || w.getAffineX() == null || w.getAffineY() == null) {
      throw new InvalidKeyException("the peer's point is the point at infinity");
    }
    EllipticCurve curve = ours.getCurve();
    BigInteger p = ((ECFieldFp) curve.getField()).getP();
    BigInteger x = w.getAffineX();
    BigInteger y = w.getAffineY();
    if (x.signum() < 0 || x.compareTo(p) >= 0 || y.signum() < 0 || y.compareTo(p) >= 0) {
      throw new InvalidKeyException("the peer's point has coordinates outside the field");
    }
    BigInteger lhs = y.multiply(y).mod(p);
    BigInteger rhs = x.multiply(x).add(curve.getA()).multiply(x).add(curve.getB()).mod(p);
    if (!lhs.equals(rhs)) {
      throw new InvalidKeyException("the peer's point is not on the curve");
    }
    return Curves.encodePoint(w, ours);
  }

  private static boolean sameCurve(ECParameterSpec a, ECParameterSpec b) {
    return a.getCurve().getField().equals(b.getCurve().getField())
        && a.getCurve().getA().equals(b.getCurve().getA())
        && a.getCurve().getB().equals(b.getCurve().getB())
        && a.getGenerator().equals(b.getGenerator())
        && a.getOrder().equals(b.getOrder())
        && a.getCofactor() == b.getCofactor();
  }

  /** The peer point of a complete agreement, which ends with this call. */
  private byte[] takePeer() {
    if (privateKey == null) {
      throw new IllegalStateException("not initialized");
    }
    if (peerPoint == null) {
      throw new IllegalStateException("doPhase(peerKey, true) has not been called");
    }
    byte[] pt = peerPoint;
    peerPoint = null;
    return pt;
  }

  @Override
  protected byte[] engineGenerateSecret() {
    byte[] pt = takePeer();
    List<Attribute> t = List.of(
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY),
        Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET),
        Attribute.ulong(CKA.VALUE_LEN, secretBytes),
        Attribute.bool(CKA.TOKEN, false),
        Attribute.bool(CKA.PRIVATE, true),
        Attribute.bool(CKA.SENSITIVE, false),
        Attribute.bool(CKA.EXTRACTABLE, true));
    Attribute[] template = t.toArray(new Attribute[0]);
    try {
      if (token.isCluster()) {
        // One complete operation on a member (derive, read, destroy), moved after a device error.
        return token.executeWithKey(CKO.PRIVATE_KEY, privateKey.id(), (s, k) -> readSecret(s, s.deriveKey(mechanism(pt), k, template)));
      }
      return token.execute(s -> readSecret(s, derive(s, pt, template)));
    } catch (KeyMissingException e) {
      throw new java.security.ProviderException("ECDH: the private key is on no healthy member of the cluster", e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider("ECDH (C_DeriveKey)", e);
    } catch (InvalidKeyException e) {
      throw new java.security.ProviderException("ECDH: " + e.getMessage(), e);
    }
  }

  /** The value of the derived session object {@code h}, which is destroyed. */
  private byte[] readSecret(Session s, long h) {
    try {
      byte[] v = s.getAttribute(h, CKA.VALUE).value();
      if (v == null || v.length != secretBytes) {
        throw new java.security.ProviderException("the token gave a shared secret of " + (v == null ? "no" : v.length) + " bytes, not " + secretBytes);
      }
      return v;
    } finally {
      HsmKeyPairGenerator.destroyQuietly(s, h);
    }
  }


  @Override
  protected int engineGenerateSecret(byte[] sharedSecret, int offset) throws ShortBufferException {
    if (privateKey != null && (offset < 0 || sharedSecret.length - offset < secretBytes)) {
      throw new ShortBufferException("the shared secret is " + secretBytes + " bytes; "
          + Math.max(0, sharedSecret.length - offset) + " bytes of room given");
    }
    byte[] v = engineGenerateSecret();
    try {
      System.arraycopy(v, 0, sharedSecret, offset, v.length);
      return v.length;
    } finally {
      Arrays.fill(v, (byte) 0);
    }
  }

  @Override
  protected SecretKey engineGenerateSecret(String algorithm) throws NoSuchAlgorithmException, InvalidKeyException {
    if (algorithm == null) {
      throw new NoSuchAlgorithmException("no algorithm given");
    }
    String a = algorithm.toUpperCase(Locale.ROOT);
    if (a.equals("TLSPREMASTERSECRET")) {
      // JSSE asks for this (KAKeyDerivation) and hands the key to code that runs in software and
      // reads its bytes: SunJCE's TLS 1.2 master-secret generator (which refuses a key whose format
      // is not RAW) and the TLS 1.3 HKDF (which MACs getEncoded(): a token key's null becomes an
      // empty input and wrong traffic keys). HsmKit has no TLS key derivation, so a premaster
      // secret kept in the token is of no use: give the ephemeral secret out as RAW bytes.
      byte[] v = engineGenerateSecret();
      try {
        return new SecretKeySpec(v, "TlsPremasterSecret");
      } finally {
        Arrays.fill(v, (byte) 0);
      }
    }
    long ckk;
    int len;
    String name;
    switch (a) {
      case "AES" -> {
        ckk = CKK.AES;
        len = AES_BYTES;
        name = "AES";
      }
      case "GENERIC", "GENERICSECRET" -> {
        ckk = CKK.GENERIC_SECRET;
        len = secretBytes;
        name = "GenericSecret";
      }
      default -> throw new NoSuchAlgorithmException("ECDH secrets can become AES, TlsPremasterSecret or GenericSecret keys, not " + algorithm);
    }
    if (privateKey != null && len > secretBytes) {
      throw new InvalidKeyException("the shared secret has " + secretBytes + " bytes, too few for a " + len * 8 + "-bit " + name + " key");
    }
    byte[] pt = takePeer();
    if (token.isCluster()) {
      return onCluster(pt, ckk, len, name);
    }
    KeyTemplates.Policy p = KeyTemplates.defaults(token).withToken(false);
    List<Attribute> t = derived(KeyTemplates.secretOrPrivate(p), ckk, len);
    Attribute[] template = t.toArray(new Attribute[0]);
    try {
      long h = token.executeForObjects(s -> derive(s, pt, template));
      HsmSecretKey k = new HsmSecretKey(KeyTemplates.info(token, h, CKO.SECRET_KEY, ckk, p, true), name, len * 8);
      k.destroyWhenUnreachable();
      return k;
    } catch (Pkcs11Exception e) {
      if (Errors.kind(e) == Errors.Kind.INVALID_KEY) {
        throw Errors.invalidKey("ECDH to a " + name + " key", e);
      }
      throw Errors.provider("ECDH to a " + name + " key (C_DeriveKey)", e);
    }
  }

  /**
   * The shared secret as a replicated key of the cluster: derived on one member as a token key
   * with CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED (sensitive), copied to the other members under
   * the cluster wrapping key, returned once on minReplicas members (see {@link ReplicatedKeys}).
   */
  private SecretKey onCluster(byte[] pt, long ckk, int len, String name) throws InvalidKeyException {
    List<Attribute> t = derived(new java.util.ArrayList<>(), ckk, len);
    Mechanism m = mechanism(pt);
    byte[] ours = privateKey.id();
    HsmSecretKey k = (HsmSecretKey) ReplicatedKeys.create(token, "ECDH to a " + name + " key", "ecdh", CKO.SECRET_KEY, t, len * 8,
        (s, keys, template) -> s.deriveKey(m, keys.handle(CKO.PRIVATE_KEY, ours), template));
    return k;
  }

  /** Appends CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN and the usage of a derived secret of {@code len} bytes. */
  private static List<Attribute> derived(List<Attribute> t, long ckk, int len) {
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, ckk));
    t.add(Attribute.ulong(CKA.VALUE_LEN, len));
    return KeyTemplates.secretUsage(t, ckk);
  }

  private static Mechanism mechanism(byte[] point) {
    return Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, point));
  }

  /** C_DeriveKey with our key, finding a token key again once if its handle went stale. */
  private long derive(Session s, byte[] point, Attribute[] template) throws InvalidKeyException {
    Mechanism m = mechanism(point);
    try {
      return s.deriveKey(m, privateKey.handle(), template);
    } catch (Pkcs11Exception e) {
      if (!e.isAny(CKR.KEY_HANDLE_INVALID, CKR.OBJECT_HANDLE_INVALID) || !privateKey.isTokenObject()) {
        throw e;
      }
      return s.deriveKey(m, privateKey.refind(s), template);
    }
  }
}
