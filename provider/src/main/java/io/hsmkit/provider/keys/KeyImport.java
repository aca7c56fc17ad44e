package io.hsmkit.provider.keys;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.ReplicatedKeys;
import io.hsmkit.provider.internal.TokenContext;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.NamedParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Software keys into the token (C_CreateObject). Public keys become objects the token can verify
 * and encrypt with; private and secret keys are imported only when a caller asks, as sensitive
 * objects ({@link KeyTemplates.Policy}); over a cluster, private and secret keys are made replicated
 * token keys ({@link ReplicatedKeys}: on {@code minReplicas} members, the policy does not apply)
 * and public keys are not imported (see {@code HsmKeyFactory}). Key bytes pass through the binding's wiped native memory;
 * the temporary Java copies made here are wiped before returning.
 */
public final class KeyImport {
  private KeyImport() {}

  private static Attribute[] array(List<Attribute> l) {
    return l.toArray(new Attribute[0]);
  }

  private static byte[] unsigned(BigInteger v) {
    byte[] b = v.toByteArray();
    return b[0] == 0 && b.length > 1 ? Arrays.copyOfRange(b, 1, b.length) : b;
  }

  /**
   * Imports a secret key value as {@code ckk} (CKK_AES, CKK_GENERIC_SECRET, ...) allowed to
   * encrypt, decrypt, sign, verify, wrap, unwrap and derive. {@code value} is not modified.
   */
  public static HsmSecretKey secret(TokenContext token, byte[] value, long ckk, String algorithm, KeyTemplates.Policy p) throws InvalidKeyException {
    List<Attribute> t = KeyTemplates.secretOrPrivate(p);
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, ckk));
    t.add(Attribute.secret(CKA.VALUE, value));
    KeyTemplates.secretUsage(t, ckk);
    if (token.isCluster()) {
      // A session key on one member would be useless over a cluster: replicated instead (see ReplicatedKeys).
      return (HsmSecretKey) ReplicatedKeys.create(token, "import of a secret key", "import", CKO.SECRET_KEY, t, value.length * 8,
          (s, keys, template) -> s.createObject(template));
    }
    long h = create(token, t);
    return new HsmSecretKey(KeyTemplates.info(token, h, CKO.SECRET_KEY, ckk, p, true), algorithm, value.length * 8);
  }

  /** Imports a public key (RSA, EC or Ed25519) that can verify, encrypt and wrap. */
  public static HsmPublicKey publicKey(TokenContext token, PublicKey key, KeyTemplates.Policy p) throws InvalidKeyException {
    if (key instanceof HsmPublicKey hk && hk.belongsTo(token)) {
      return hk;
    }
    List<Attribute> t = KeyTemplates.publicKey(p);
    t.add(Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY));
    long ckk;
    if (key instanceof RSAPublicKey r) {
      ckk = CKK.RSA;
      t.add(Attribute.bytes(CKA.MODULUS, unsigned(r.getModulus())));
      t.add(Attribute.bytes(CKA.PUBLIC_EXPONENT, unsigned(r.getPublicExponent())));
      t.add(Attribute.bool(CKA.ENCRYPT, true));
      t.add(Attribute.bool(CKA.WRAP, true));
    } else if (key instanceof ECPublicKey e) {
      ckk = CKK.EC;
      t.add(Attribute.bytes(CKA.EC_PARAMS, Curves.ecParams(e.getParams())));
      t.add(Attribute.bytes(CKA.EC_POINT, Curves.octetString(Curves.encodePoint(e.getW(), e.getParams()))));
    } else if (key instanceof EdECPublicKey ed) {
      if (!NamedParameterSpec.ED25519.getName().equalsIgnoreCase(ed.getParams().getName())) {
        throw new InvalidKeyException("only Ed25519 is supported, not " + ed.getParams().getName());
      }
      ckk = CKK.EC_EDWARDS;
      t.add(Attribute.bytes(CKA.EC_PARAMS, edParams(token)));
      t.add(Attribute.bytes(CKA.EC_POINT, Curves.octetString(Curves.edEncode(ed.getPoint()))));
    } else {
      throw new InvalidKeyException("cannot import a " + key.getAlgorithm() + " public key (" + key.getClass().getName() + ")");
    }
    t.add(Attribute.ulong(CKA.KEY_TYPE, ckk));
    t.add(Attribute.bool(CKA.VERIFY, true));
    long h = create(token, t);
    HsmPublicKey k = (HsmPublicKey) load(token, h);
    k.destroyWhenUnreachable();
    return k;
  }

  /** Imports a private key (RSA CRT, EC, Ed25519) as a sensitive object that can sign, decrypt, unwrap and derive. */
  public static HsmPrivateKey privateKey(TokenContext token, PrivateKey key, KeyTemplates.Policy p) throws InvalidKeyException {
    if (key instanceof HsmPrivateKey hk && hk.belongsTo(token)) {
      return hk;
    }
    List<Attribute> t = KeyTemplates.secretOrPrivate(p);
    List<byte[]> wipe = new ArrayList<>();
    t.add(Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY));
    t.add(Attribute.bool(CKA.SIGN, true));
    try {
      if (key instanceof RSAPrivateCrtKey r) {
        t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.RSA));
        t.add(Attribute.bytes(CKA.MODULUS, unsigned(r.getModulus())));
        t.add(Attribute.bytes(CKA.PUBLIC_EXPONENT, unsigned(r.getPublicExponent())));
        t.add(secret(CKA.PRIVATE_EXPONENT, r.getPrivateExponent(), wipe));
        t.add(secret(CKA.PRIME_1, r.getPrimeP(), wipe));
        t.add(secret(CKA.PRIME_2, r.getPrimeQ(), wipe));
        t.add(secret(CKA.EXPONENT_1, r.getPrimeExponentP(), wipe));
        t.add(secret(CKA.EXPONENT_2, r.getPrimeExponentQ(), wipe));
        t.add(secret(CKA.COEFFICIENT, r.getCrtCoefficient(), wipe));
        t.add(Attribute.bool(CKA.DECRYPT, true));
        t.add(Attribute.bool(CKA.UNWRAP, true));
      } else if (key instanceof RSAPrivateKey r) {
        t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.RSA));
        t.add(Attribute.bytes(CKA.MODULUS, unsigned(r.getModulus())));
        t.add(secret(CKA.PRIVATE_EXPONENT, r.getPrivateExponent(), wipe));
        t.add(Attribute.bool(CKA.DECRYPT, true));
        t.add(Attribute.bool(CKA.UNWRAP, true));
      } else if (key instanceof ECPrivateKey e) {
        t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.EC));
        t.add(Attribute.bytes(CKA.EC_PARAMS, Curves.ecParams(e.getParams())));
        byte[] s = new byte[Curves.fieldBytes(e.getParams())];
        byte[] v = unsigned(e.getS());
        System.arraycopy(v, Math.max(0, v.length - s.length), s, Math.max(0, s.length - v.length), Math.min(v.length, s.length));
        Arrays.fill(v, (byte) 0);
        wipe.add(s);
        t.add(Attribute.secret(CKA.VALUE, s));
        t.add(Attribute.bool(CKA.DERIVE, true));
      } else if (key instanceof EdECPrivateKey ed) {
        t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.EC_EDWARDS));
        t.add(Attribute.bytes(CKA.EC_PARAMS, edParams(token)));
        byte[] s = ed.getBytes().orElseThrow(() -> new InvalidKeyException("the Ed25519 key has no private bytes"));
        wipe.add(s);
        t.add(Attribute.secret(CKA.VALUE, s));
      } else {
        throw new InvalidKeyException("cannot import a " + key.getAlgorithm() + " private key (" + key.getClass().getName() + ")");
      }
      if (token.isCluster()) {
        return (HsmPrivateKey) ReplicatedKeys.create(token, "import of a private key", "import", CKO.PRIVATE_KEY, t, 0,
            (s, keys, template) -> s.createObject(template));
      }
      long h = create(token, t);
      return (HsmPrivateKey) load(token, h);
    } finally {
      for (byte[] b : wipe) {
        Arrays.fill(b, (byte) 0);
      }
    }
  }

  private static Attribute secret(long type, BigInteger v, List<byte[]> wipe) {
    byte[] b = unsigned(v);
    wipe.add(b);
    return Attribute.secret(type, b);
  }

  /** CKA_EC_PARAMS for Ed25519 as this token takes it (the v3.0 OID, else the v2.40-era name). */
  public static byte[] edParams(TokenContext token) {
    return token.probe("Ed25519 params as OID", t -> t.execute(s -> {
      try {
        var kp = s.generateKeyPair(io.hsmkit.pkcs11.raw.Mechanism.of(io.hsmkit.pkcs11.constants.CKM.EC_EDWARDS_KEY_PAIR_GEN),
            new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.EC_PARAMS, Curves.ED25519_OID)},
            new Attribute[] {Attribute.bool(CKA.TOKEN, false)});
        s.destroyObject(kp.privateKey());
        s.destroyObject(kp.publicKey());
        return true;
      } catch (Pkcs11Exception e) {
        return false;
      }
    })) ? Curves.ED25519_OID : Curves.EDWARDS25519_NAME;
  }

  private static long create(TokenContext token, List<Attribute> t) throws InvalidKeyException {
    Attribute[] template = array(t);
    try {
      return token.executeForObjects(s -> s.createObject(template));
    } catch (Pkcs11Exception e) {
      throw Errors.invalidKey("C_CreateObject refused the key", e);
    }
  }

  private static HsmKey load(TokenContext token, long h) throws InvalidKeyException {
    try {
      return token.execute(s -> HsmKeys.load(token, s, h));
    } catch (Pkcs11Exception e) {
      throw Errors.invalidKey("cannot read the imported key", e);
    }
  }

  /** Whether {@code key} is already a key of {@code token}. */
  public static boolean isLocal(Key key, TokenContext token) {
    return key instanceof HsmKey hk && hk.belongsTo(token);
  }
}
