package io.hsmkit.provider.keys;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.TokenContext;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Locale;

/** Builds {@link HsmKey} objects from token objects, and checks keys handed to SPIs. */
public final class HsmKeys {
  private HsmKeys() {}

  private static final long[] COMMON = {CKA.CLASS, CKA.KEY_TYPE, CKA.ID, CKA.LABEL, CKA.TOKEN, CKA.SENSITIVE, CKA.EXTRACTABLE};

  /** Reads the object {@code handle} and returns the matching key class (one attribute read, two for big RSA keys). */
  public static HsmKey load(TokenContext token, Session s, long handle) throws InvalidKeyException {
    Attribute[] a = s.getAttributes(handle, CKA.CLASS, CKA.KEY_TYPE, CKA.ID, CKA.LABEL, CKA.TOKEN, CKA.SENSITIVE, CKA.EXTRACTABLE,
        CKA.VALUE_LEN, CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.EC_PARAMS, CKA.EC_POINT);
    if (!a[0].present() || !a[1].present()) {
      throw new InvalidKeyException("object " + handle + " is not a key");
    }
    long cls = a[0].asUlong();
    long type = a[1].asUlong();
    HsmKey.KeyInfo info = new HsmKey.KeyInfo(token, handle, cls, type,
        a[2].present() && a[2].length() > 0 ? a[2].value() : null,
        a[3].present() ? a[3].asString() : null,
        a[4].present() && a[4].asBool(),
        a[5].present() && a[5].asBool(),
        a[6].present() && a[6].asBool());
    try {
      if (cls == CKO.SECRET_KEY) {
        int bits = a[7].present() ? (int) a[7].asUlong() * 8 : 0;
        return new HsmSecretKey(info, secretAlgorithm(type), bits);
      }
      if (type == CKK.RSA) {
        BigInteger n = new BigInteger(1, a[8].value());
        BigInteger e = a[9].present() ? new BigInteger(1, a[9].value()) : null;
        if (cls == CKO.PRIVATE_KEY) {
          return new HsmRsaPrivateKey(info, n, e);
        }
        RSAPublicKey pub = (RSAPublicKey) jdk("RSA", "SunRsaSign").generatePublic(new RSAPublicKeySpec(n, e));
        return new HsmRsaPublicKey(info, pub);
      }
      if (type == CKK.EC) {
        ECParameterSpec spec = Curves.ecSpec(a[10].value());
        if (cls == CKO.PRIVATE_KEY) {
          return new HsmEcPrivateKey(info, spec);
        }
        ECPublicKey pub = (ECPublicKey) jdk("EC", "SunEC").generatePublic(new ECPublicKeySpec(Curves.decodePoint(a[11].value(), spec), spec));
        return new HsmEcPublicKey(info, pub);
      }
      if (type == CKK.EC_EDWARDS) {
        if (cls == CKO.PRIVATE_KEY) {
          return new HsmEdPrivateKey(info);
        }
        byte[] point = a[11].value();
        byte[] raw = point.length == 32 ? point : Curves.unwrapOctetString(point);
        if (raw == null) {
          throw new InvalidKeyException("CKA_EC_POINT of an Ed25519 key is malformed");
        }
        EdECPublicKey pub = (EdECPublicKey) jdk("Ed25519", "SunEC").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, Curves.edPoint(raw)));
        return new HsmEdPublicKey(info, pub);
      }
    } catch (GeneralSecurityException e) {
      throw new InvalidKeyException("cannot read key " + handle + ": " + e.getMessage(), e);
    }
    throw new InvalidKeyException("key type 0x" + Long.toHexString(type) + " (" + CKK.name(type) + ") is not supported");
  }

  static KeyFactory jdk(String alg, String provider) throws GeneralSecurityException {
    try {
      return KeyFactory.getInstance(alg, provider);
    } catch (GeneralSecurityException e) {
      return KeyFactory.getInstance(alg);
    }
  }

  /** JCA name of a secret key type. */
  public static String secretAlgorithm(long ckk) {
    if (ckk == CKK.AES) {
      return "AES";
    }
    if (ckk == CKK.GENERIC_SECRET) {
      return "GenericSecret";
    }
    if (ckk == CKK.DES3) {
      return "DESede";
    }
    if (ckk == CKK.SHA256_HMAC) {
      return "HmacSHA256";
    }
    if (ckk == CKK.SHA384_HMAC) {
      return "HmacSHA384";
    }
    if (ckk == CKK.SHA512_HMAC) {
      return "HmacSHA512";
    }
    return CKK.name(ckk).replace("CKK_", "").toUpperCase(Locale.ROOT);
  }

  /**
   * The token key behind {@code key}, checking it lives in {@code token} and is of {@code type}.
   *
   * @throws InvalidKeyException for a key of another provider or token, or of another class
   */
  public static <T extends HsmKey> T require(Key key, TokenContext token, Class<T> type) throws InvalidKeyException {
    if (key == null) {
      throw new InvalidKeyException("no key");
    }
    if (!(key instanceof HsmKey hk)) {
      throw new InvalidKeyException("not an HsmKit key: " + key.getClass().getName() + " (" + key.getAlgorithm()
          + "); import it with HsmKit's KeyFactory or SecretKeyFactory, or let JCA pick the JDK's provider");
    }
    if (!hk.belongsTo(token)) {
      throw new InvalidKeyException("the key belongs to another token (" + hk.token() + "), not " + token);
    }
    if (!type.isInstance(key)) {
      throw new InvalidKeyException("expected " + type.getSimpleName() + ", got " + key.getClass().getSimpleName());
    }
    return type.cast(key);
  }
}
