package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmEdPrivateKey;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmRsaPrivateKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyFactorySpi;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * KeyFactory for RSA, EC and Ed25519 (also "EdDSA"): turns key specifications and software keys
 * into token objects. The JDK's own key factory (SunRsaSign, SunEC; never an HsmKit provider)
 * parses and checks the specification; {@link KeyImport} creates the object.
 *
 * <ul>
 *   <li>Public keys become session objects (they are public; the caller can always import again).
 *   <li>Private keys are imported because the caller asked by calling {@code generatePrivate} or
 *       {@code translateKey}: sensitive and not extractable unless configured otherwise, session
 *       objects unless {@code keys.token = true}.
 *   <li>{@code getKeySpec} gives a public key's X.509, RSA, EC or EdEC specification; for a
 *       private key in the token only when it is extractable and not sensitive, and otherwise
 *       throws InvalidKeySpecException: the value stays in the token.
 *   <li>{@code translateKey} returns keys of this token unchanged and imports the others.
 * </ul>
 *
 * <p><b>Over a cluster</b> private keys are imported as replicated keys (a token key on
 * {@code minReplicas} members before it is returned, sensitive, extractable only under the trusted
 * cluster key; the configuration's key policy does not apply; see {@code ReplicatedKeys}), and
 * public keys stay the JDK's keys (see {@link #importPublic}).
 */
public final class HsmKeyFactory extends KeyFactorySpi {
  /** The key families, with the JDK's factory for each. */
  public enum Family {
    RSA("RSA", "SunRsaSign"),
    EC("EC", "SunEC"),
    ED25519("Ed25519", "SunEC");

    final String jdkName;
    final String jdkProvider;

    Family(String jdkName, String jdkProvider) {
      this.jdkName = jdkName;
      this.jdkProvider = jdkProvider;
    }

    boolean accepts(Key k) {
      return switch (this) {
        case RSA -> k instanceof RSAKey;
        case EC -> k instanceof ECKey;
        case ED25519 -> k instanceof EdECKey e && e.getParams() != null
            && NamedParameterSpec.ED25519.getName().equalsIgnoreCase(e.getParams().getName());
      };
    }
  }

  private final TokenContext token;
  private final Family family;

  public HsmKeyFactory(TokenContext token, Family family) {
    this.token = token;
    this.family = family;
  }

  /**
   * The JDK's key factory for {@code f}: the named provider, else the first other provider that is
   * not an HsmKit one (asking JCA for "any" could hand the request back to us).
   */
  static KeyFactory software(Family f) throws NoSuchAlgorithmException {
    Provider named = Security.getProvider(f.jdkProvider);
    if (named != null) {
      try {
        return KeyFactory.getInstance(f.jdkName, named);
      } catch (NoSuchAlgorithmException e) {
        // fall through to the others
      }
    }
    for (Provider p : Security.getProviders()) {
      if (p instanceof HsmKitProvider || p.getService("KeyFactory", f.jdkName) == null) {
        continue;
      }
      return KeyFactory.getInstance(f.jdkName, p);
    }
    throw new NoSuchAlgorithmException("no software " + f.jdkName + " KeyFactory to parse the key with");
  }

  private KeyFactory software() throws InvalidKeySpecException {
    try {
      return software(family);
    } catch (NoSuchAlgorithmException e) {
      throw new InvalidKeySpecException(e.getMessage(), e);
    }
  }

  private InvalidKeySpecException wrongFamily(Key k) {
    return new InvalidKeySpecException("a " + family.jdkName + " KeyFactory cannot take a " + k.getAlgorithm() + " key");
  }

  @Override
  protected PublicKey engineGeneratePublic(KeySpec keySpec) throws InvalidKeySpecException {
    if (keySpec == null) {
      throw new InvalidKeySpecException("no key specification");
    }
    PublicKey sw = software().generatePublic(keySpec);
    if (!family.accepts(sw)) {
      throw wrongFamily(sw);
    }
    try {
      return importPublic(sw);
    } catch (InvalidKeyException e) {
      throw new InvalidKeySpecException(e.getMessage(), e);
    }
  }

  @Override
  protected PrivateKey engineGeneratePrivate(KeySpec keySpec) throws InvalidKeySpecException {
    if (keySpec == null) {
      throw new InvalidKeySpecException("no key specification");
    }
    PrivateKey sw = software().generatePrivate(keySpec);
    if (!family.accepts(sw)) {
      throw wrongFamily(sw);
    }
    try {
      return importPrivate(sw, true);
    } catch (InvalidKeyException e) {
      throw new InvalidKeySpecException(e.getMessage(), e);
    }
  }

  /**
   * The public key for this provider: a session object of the token, or over a cluster the JDK's
   * key itself (parsed and checked by the JDK's factory). A public key needs no protection, and a
   * session object would live on one member only; HsmKit's Signature verifies a software public key
   * with the JDK and its ECDH takes any ECPublicKey as the peer's, so nothing needs it in a member.
   */
  private PublicKey importPublic(PublicKey k) throws InvalidKeyException {
    if (token.isCluster()) {
      return k;
    }
    return KeyImport.publicKey(token, k, KeyTemplates.defaults(token).withToken(false));
  }

  /** Imports {@code k}; {@code ours} when this factory made the software key, which is then destroyed (where it can be). */
  private HsmPrivateKey importPrivate(PrivateKey k, boolean ours) throws InvalidKeyException {
    try {
      return KeyImport.privateKey(token, k, KeyTemplates.defaults(token));
    } finally {
      if (ours) {
        try {
          k.destroy();
        } catch (javax.security.auth.DestroyFailedException | RuntimeException ignored) {
          // JDK 17's software keys cannot be destroyed: best effort
        }
      }
    }
  }

  @Override
  protected <T extends KeySpec> T engineGetKeySpec(Key key, Class<T> keySpec) throws InvalidKeySpecException {
    if (key == null || keySpec == null) {
      throw new InvalidKeySpecException("no key or no specification class");
    }
    if (!family.accepts(key)) {
      throw wrongFamily(key);
    }
    KeyFactory jdk = software();
    if (key instanceof PublicKey) {
      byte[] der = key.getEncoded();
      if (der == null) {
        throw new InvalidKeySpecException("the public key has no encoding");
      }
      if (keySpec.isAssignableFrom(X509EncodedKeySpec.class)) {
        return keySpec.cast(new X509EncodedKeySpec(der));
      }
      return jdk.getKeySpec(jdk.generatePublic(new X509EncodedKeySpec(der)), keySpec);
    }
    if (key instanceof HsmPrivateKey hk) {
      if (!hk.belongsTo(token)) {
        throw new InvalidKeySpecException("the key belongs to another token");
      }
      if (hk.isSensitive() || !hk.isExtractable()) {
        throw new InvalidKeySpecException("the private key is " + (hk.isSensitive() ? "sensitive" : "not extractable")
            + ": its value stays in the token");
      }
      PrivateKey sw = readPrivate(hk, jdk);
      try {
        return jdk.getKeySpec(sw, keySpec);
      } finally {
        try {
          sw.destroy();
        } catch (javax.security.auth.DestroyFailedException | RuntimeException ignored) {
          // best effort
        }
      }
    }
    if (key instanceof PrivateKey) {
      return jdk.getKeySpec(key, keySpec);
    }
    throw new InvalidKeySpecException("not a public or private key: " + key.getClass().getName());
  }

  /** A software copy of an extractable, non-sensitive token private key (the caller asked for its value). */
  private PrivateKey readPrivate(HsmPrivateKey k, KeyFactory jdk) throws InvalidKeySpecException {
    try {
      Attribute[] a;
      if (k instanceof HsmRsaPrivateKey) {
        a = token.execute(s -> s.getAttributes(k.handle(), CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.PRIVATE_EXPONENT,
            CKA.PRIME_1, CKA.PRIME_2, CKA.EXPONENT_1, CKA.EXPONENT_2, CKA.COEFFICIENT));
        for (Attribute x : a) {
          if (!x.present()) {
            throw new InvalidKeySpecException("the token did not give the RSA key's CRT values");
          }
        }
        BigInteger[] v = new BigInteger[8];
        for (int i = 0; i < 8; i++) {
          byte[] b = a[i].value();
          v[i] = new BigInteger(1, b);
          Arrays.fill(b, (byte) 0);
        }
        return jdk.generatePrivate(new RSAPrivateCrtKeySpec(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
      }
      a = token.execute(s -> s.getAttributes(k.handle(), CKA.VALUE));
      if (!a[0].present()) {
        throw new InvalidKeySpecException("the token did not give the key's value");
      }
      byte[] b = a[0].value();
      try {
        if (k instanceof HsmEcPrivateKey ec) {
          return jdk.generatePrivate(new ECPrivateKeySpec(new BigInteger(1, b), ec.getParams()));
        }
        if (k instanceof HsmEdPrivateKey) {
          return jdk.generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, b));
        }
      } finally {
        Arrays.fill(b, (byte) 0);
      }
      throw new InvalidKeySpecException("unsupported key " + k);
    } catch (Pkcs11Exception e) {
      throw new InvalidKeySpecException("cannot read the key's value: " + e.getMessage(), e);
    }
  }

  @Override
  protected Key engineTranslateKey(Key key) throws InvalidKeyException {
    if (key == null) {
      throw new InvalidKeyException("no key");
    }
    if (!family.accepts(key)) {
      throw new InvalidKeyException("a " + family.jdkName + " KeyFactory cannot take a " + key.getAlgorithm() + " key");
    }
    if (key instanceof HsmKey hk) {
      if (hk.belongsTo(token)) {
        return key;
      }
      if (!(key instanceof PublicKey)) {
        throw new InvalidKeyException("a private or secret key cannot move from another token (" + hk.token() + ")");
      }
    }
    try {
      if (key instanceof PublicKey pk) {
        if (key instanceof HsmKey || !isUsable(pk)) {
          pk = (PublicKey) parse(key, true);
        }
        return importPublic(pk);
      }
      if (key instanceof PrivateKey sk) {
        // The caller's key is the caller's: only a copy parsed here is destroyed.
        if (isUsable(sk)) {
          return importPrivate(sk, false);
        }
        return importPrivate((PrivateKey) parse(key, false), true);
      }
    } catch (InvalidKeySpecException e) {
      throw new InvalidKeyException(e.getMessage(), e);
    }
    throw new InvalidKeyException("not a public or private key: " + key.getClass().getName());
  }

  /** Whether KeyImport can take {@code k} as it is (it reads the standard interfaces). */
  private static boolean isUsable(Key k) {
    return k instanceof java.security.interfaces.RSAPublicKey || k instanceof java.security.interfaces.RSAPrivateKey
        || k instanceof java.security.interfaces.ECPublicKey || k instanceof java.security.interfaces.ECPrivateKey
        || k instanceof java.security.interfaces.EdECPublicKey || k instanceof java.security.interfaces.EdECPrivateKey;
  }

  /** The JDK's key for an opaque key, from its X.509 or PKCS#8 encoding. */
  private Key parse(Key key, boolean isPublic) throws InvalidKeySpecException {
    byte[] enc = key.getEncoded();
    String fmt = key.getFormat();
    if (enc == null || fmt == null) {
      throw new InvalidKeySpecException("the key has no encoding to import it from");
    }
    try {
      if (isPublic && "X.509".equalsIgnoreCase(fmt)) {
        return software().generatePublic(new X509EncodedKeySpec(enc));
      }
      if (!isPublic && "PKCS#8".equalsIgnoreCase(fmt)) {
        return software().generatePrivate(new PKCS8EncodedKeySpec(enc));
      }
    } finally {
      if (!isPublic) {
        Arrays.fill(enc, (byte) 0);
      }
    }
    throw new InvalidKeySpecException("cannot import a key encoded as " + fmt);
  }
}
