package io.hsmkit.kms.backing.token;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.HsmKeyBacking;
import io.hsmkit.kms.backing.TokenLabels;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.Provider;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The default key store's {@link KeyBacking}: persistent token objects on the embedded token,
 * reached through a configured, logged-in {@link HsmKitProvider}.
 *
 * <p>Every object it makes is a token object (CKA_TOKEN true), private, sensitive and not
 * extractable, labelled with the label the service gives; a key pair's two halves share the label
 * (the private half is {@link #find found} first). Besides the {@link KeyBacking} contract it makes
 * the asymmetric and HMAC keys the service offers on the default store, and lists labels for the
 * service's start-up reconciliation.
 *
 * <p>Token errors become {@link KmsException} {@code KMS_INTERNAL} naming the PKCS#11 function
 * and return code (the default store has no connection state to blame). Thread-safe.
 *
 * <p><b>Handle cache.</b> Every KMS crypto call finds its backing key by label, and a
 * C_FindObjects is linear in the number of objects on the token (SoftHSM2: 35 ms with 1,000
 * objects). {@link #find} and {@link #findPublic} therefore keep label -> key. A hit is checked
 * with one C_GetAttributeValue on the cached handle (CKA_LABEL and CKA_ID must still match, which
 * also catches a key destroyed and made again under the same label by another process on the same
 * token) and with the pool's generation (a token that came back may number its objects anew); a
 * miss or a failed check searches again. {@link #destroy}, {@link #relabel} and every creation
 * forget the labels they touch.
 */
public final class TokenKeyBacking implements HsmKeyBacking {
  private final HsmKitProvider provider;
  private final TokenContext token;
  /** (label, object class) -> the key found, and the pool generation it was found in. */
  private final java.util.concurrent.ConcurrentHashMap<CacheKey, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong searches = new java.util.concurrent.atomic.AtomicLong();

  private record CacheKey(String label, long objectClass) {}

  private record Cached(HsmKey key, long generation) {}

  /** {@code provider} must be configured for the embedded token and logged in. */
  public TokenKeyBacking(HsmKitProvider provider) {
    this.provider = Objects.requireNonNull(provider, "provider");
    // tokenContext() is HsmKit's own seam for its modules (see its Javadoc): it lets this class
    // label objects, which the JCA KeyGenerator API cannot.
    this.token = provider.tokenContext();
  }

  @Override
  public String customKeyStoreId() {
    return null;
  }

  @Override
  public Provider provider() {
    return provider;
  }

  @Override
  public Key createAes256(String label) {
    List<Attribute> t = secretTemplate(label, CKK.AES);
    t.add(Attribute.ulong(CKA.VALUE_LEN, 32));
    t.add(Attribute.bool(CKA.ENCRYPT, true));
    t.add(Attribute.bool(CKA.DECRYPT, true));
    return generateSecret(Mechanism.of(CKM.AES_KEY_GEN), t, label);
  }

  /** A persistent HMAC key of {@code bytes} bytes (CKK_GENERIC_SECRET, sign and verify only). */
  public Key createHmac(String label, int bytes) {
    List<Attribute> t = secretTemplate(label, CKK.GENERIC_SECRET);
    t.add(Attribute.ulong(CKA.VALUE_LEN, bytes));
    t.add(Attribute.bool(CKA.SIGN, true));
    t.add(Attribute.bool(CKA.VERIFY, true));
    return generateSecret(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN), t, label);
  }

  /**
   * A persistent RSA key pair of {@code bits}; {@code signing} chooses sign/verify, else
   * encrypt/decrypt (AWS keys have one usage). Returns the private key.
   */
  public Key createRsa(String label, int bits, boolean signing) {
    List<Attribute> pub = publicTemplate(label);
    pub.add(Attribute.ulong(CKA.MODULUS_BITS, bits));
    pub.add(Attribute.bytes(CKA.PUBLIC_EXPONENT, new byte[] {1, 0, 1}));
    pub.add(Attribute.bool(signing ? CKA.VERIFY : CKA.ENCRYPT, true));
    List<Attribute> priv = privateTemplate(label);
    priv.add(Attribute.bool(signing ? CKA.SIGN : CKA.DECRYPT, true));
    return generatePair(Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN), pub, priv, label);
  }

  /** A persistent EC signing key pair on the curve named by its DER-encoded OID; returns the private key. */
  public Key createEc(String label, byte[] curveOidDer) {
    List<Attribute> pub = publicTemplate(label);
    pub.add(Attribute.bytes(CKA.EC_PARAMS, curveOidDer));
    pub.add(Attribute.bool(CKA.VERIFY, true));
    List<Attribute> priv = privateTemplate(label);
    priv.add(Attribute.bool(CKA.SIGN, true));
    return generatePair(Mechanism.of(CKM.EC_KEY_PAIR_GEN), pub, priv, label);
  }

  /** Whether the token has a mechanism (for key specs it may lack, such as secp256k1). */
  public boolean has(long mechanism) {
    return token.has(mechanism);
  }

  @Override
  public Key find(String label) {
    // the cache first for both classes, so that a private key costs no secret-key search
    Key k = cached(label, CKO.SECRET_KEY);
    if (k == null) {
      k = cached(label, CKO.PRIVATE_KEY);
    }
    if (k != null) {
      return k;
    }
    k = findOf(label, CKO.SECRET_KEY);
    return k != null ? k : findOf(label, CKO.PRIVATE_KEY);
  }

  /** The public half labelled {@code label}, or null. */
  public Key findPublic(String label) {
    return findOf(label, CKO.PUBLIC_KEY);
  }

  /** How many C_FindObjects look-ups by label this backing has made (the cache's misses; for tests). */
  public long searches() {
    return searches.get();
  }

  /** The cached key, checked against the token, or null. */
  private Key cached(String label, long cls) {
    CacheKey ck = new CacheKey(label, cls);
    Cached c = cache.get(ck);
    if (c != null) {
      if (c.generation() == token.pool().generation() && stillNamed(c.key(), label)) {
        return c.key();
      }
      cache.remove(ck, c);
    }
    return null;
  }

  private Key findOf(String label, long cls) {
    Key hit = cached(label, cls);
    if (hit != null) {
      return hit;
    }
    long generation = token.pool().generation();
    Key found = search(label, cls);
    if (found instanceof HsmKey hk) {
      cache.put(new CacheKey(label, cls), new Cached(hk, generation));
    }
    return found;
  }

  /** Whether the cached key's handle still names a token object with this label and the key's CKA_ID. */
  private boolean stillNamed(HsmKey k, String label) {
    try {
      return token.execute(s -> {
        Attribute[] a = s.getAttributes(k.handle(), CKA.LABEL, CKA.ID, CKA.CLASS);
        return a[0].present() && label.equals(a[0].asString()) && a[1].present() && java.util.Arrays.equals(a[1].value(), k.id())
            && a[2].present() && a[2].asUlong() == k.objectClass();
      });
    } catch (Pkcs11Exception e) {
      if (e.isAny(io.hsmkit.pkcs11.constants.CKR.OBJECT_HANDLE_INVALID, io.hsmkit.pkcs11.constants.CKR.KEY_HANDLE_INVALID)) {
        return false; // destroyed (or the token restarted): search again
      }
      throw tokenError("checking " + label, e);
    }
  }

  private void forget(String label) {
    if (label != null) {
      cache.keySet().removeIf(k -> k.label().equals(label));
    }
  }

  private Key search(String label, long cls) {
    searches.incrementAndGet();
    try {
      return token.execute(s -> {
        long[] h = s.findObjects(2, Attribute.string(CKA.LABEL, label), Attribute.ulong(CKA.CLASS, cls), Attribute.bool(CKA.TOKEN, true));
        if (h.length == 0) {
          return null;
        }
        try {
          return HsmKeys.load(token, s, h[0]);
        } catch (InvalidKeyException e) {
          throw new KmsException(KmsError.KMS_INTERNAL, "the token object labelled " + label + " is not a usable key: " + e.getMessage(), e);
        }
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("looking up " + label, e);
    }
  }

  @Override
  public void destroy(String label) {
    forget(label);
    try {
      token.executeForObjects(s -> {
        for (long h : s.findObjects(Attribute.string(CKA.LABEL, label), Attribute.bool(CKA.TOKEN, true))) {
          s.destroyObject(h);
        }
        return null;
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("destroying " + label, e);
    }
  }

  /**
   * Signs a digest in the token with {@code mechanism} (for RSASSA-PSS over a caller's digest,
   * which JCA has no name for). {@code key} is a private key of this token.
   */
  public byte[] signDigest(Key key, Mechanism mechanism, byte[] digest) {
    long h = ((HsmKey) key).handle();
    try {
      return token.execute(s -> s.sign(mechanism, h, digest));
    } catch (Pkcs11Exception e) {
      throw tokenError("signing", e);
    }
  }

  /** Verifies a signature over a digest in the token with {@code mechanism}; {@code key} is a public key of this token. */
  public boolean verifyDigest(Key key, Mechanism mechanism, byte[] digest, byte[] signature) {
    long h = ((HsmKey) key).handle();
    try {
      return token.execute(s -> s.verify(mechanism, h, digest, signature));
    } catch (Pkcs11Exception e) {
      if (e.isAny(io.hsmkit.pkcs11.constants.CKR.SIGNATURE_INVALID, io.hsmkit.pkcs11.constants.CKR.SIGNATURE_LEN_RANGE)) {
        return false;
      }
      throw tokenError("verifying", e);
    }
  }

  /**
   * An RSA key pair for unwrapping imported key material (the private half has CKA_UNWRAP and
   * nothing else). Returns the public key.
   */
  public Key createUnwrappingRsa(String label, int bits) {
    List<Attribute> pub = publicTemplate(label);
    pub.add(Attribute.ulong(CKA.MODULUS_BITS, bits));
    pub.add(Attribute.bytes(CKA.PUBLIC_EXPONENT, new byte[] {1, 0, 1}));
    pub.add(Attribute.bool(CKA.WRAP, true));
    List<Attribute> priv = privateTemplate(label);
    priv.add(Attribute.bool(CKA.UNWRAP, true));
    generatePair(Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN), pub, priv, label);
    return findPublic(label);
  }

  /**
   * Unwraps RSAES-OAEP-SHA-1 wrapped AES-256 key material with the private key labelled
   * {@code unwrappingLabel} into a persistent, sensitive, non-extractable AES key labelled
   * {@code label}, inside the token (C_UnwrapKey): the material never exists in this JVM.
   * Returns the key, or null when the token refuses the wrapped bytes (wrong key, bad padding,
   * a length that is not an AES key), so the caller gives one error for all of them.
   */
  public Key unwrapAes(String unwrappingLabel, byte[] wrapped, String label) {
    forget(label);
    Key unwrapping = findOf(unwrappingLabel, CKO.PRIVATE_KEY);
    if (unwrapping == null) {
      return null;
    }
    long uh = ((HsmKey) unwrapping).handle();
    // SoftHSM2 2.6.1 records no CKA_VALUE_LEN for an unwrapped key and refuses one in the
    // template (CKR_ATTRIBUTE_READ_ONLY, measured). To learn the length without the material
    // entering this JVM, the key is unwrapped extractable, wrapped once under a throwaway session
    // AES key with AES-KW (output = length + 8), and then made non-extractable.
    List<Attribute> t = new ArrayList<>(KeyTemplates.secretOrPrivate(
        new KeyTemplates.Policy(true, true, true, KeyTemplates.newId(), Objects.requireNonNull(label, "label"))));
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.AES));
    t.add(Attribute.bool(CKA.ENCRYPT, true));
    t.add(Attribute.bool(CKA.DECRYPT, true));
    Attribute[] template = t.toArray(new Attribute[0]);
    Mechanism oaep = Mechanism.of(CKM.RSA_PKCS_OAEP, new io.hsmkit.pkcs11.raw.MechanismParams.Oaep(CKM.SHA_1,
        io.hsmkit.pkcs11.constants.CKG.MGF1_SHA1, io.hsmkit.pkcs11.constants.CKZ.DATA_SPECIFIED, null));
    try {
      return token.executeForObjects(s -> {
        long h;
        try {
          h = s.unwrapKey(oaep, uh, wrapped, template);
        } catch (Pkcs11Exception e) {
          if (e.isAny(io.hsmkit.pkcs11.constants.CKR.DEVICE_ERROR, io.hsmkit.pkcs11.constants.CKR.DEVICE_REMOVED,
              io.hsmkit.pkcs11.constants.CKR.SESSION_HANDLE_INVALID, io.hsmkit.pkcs11.constants.CKR.TOKEN_NOT_PRESENT)) {
            throw e;
          }
          return null;
        }
        long probe = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 32),
            Attribute.bool(CKA.WRAP, true), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false));
        int length;
        try {
          length = s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), probe, h).length - 8;
        } finally {
          s.destroyObject(probe);
        }
        s.setAttributes(h, Attribute.bool(CKA.EXTRACTABLE, false));
        if (length != 32) {
          s.destroyObject(h);
          return null;
        }
        return load(s, h, label);
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("unwrapping " + label, e);
    }
  }

  /** Gives a token key of this backing a new CKA_LABEL (an imported key moves from its staging label). */
  public void relabel(Key key, String label) {
    forget(((HsmKey) key).label());
    forget(label);
    long h = ((HsmKey) key).handle();
    try {
      token.executeForObjects(s -> {
        s.setAttributes(h, Attribute.string(CKA.LABEL, label));
        return null;
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("relabelling " + label, e);
    }
  }

  /** The labels of every token object whose label starts with {@code prefix} (for reconciliation). */
  public Set<String> labels(String prefix) {
    try {
      return TokenLabels.startingWith(token, prefix);
    } catch (Pkcs11Exception e) {
      throw tokenError("listing labels", e);
    }
  }

  private static List<Attribute> secretTemplate(String label, long keyType) {
    List<Attribute> t = new ArrayList<>(KeyTemplates.secretOrPrivate(
        new KeyTemplates.Policy(true, true, false, KeyTemplates.newId(), Objects.requireNonNull(label, "label"))));
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, keyType));
    return t;
  }

  private static List<Attribute> publicTemplate(String label) {
    return new ArrayList<>(KeyTemplates.publicKey(new KeyTemplates.Policy(true, false, true, null, Objects.requireNonNull(label, "label"))));
  }

  private static List<Attribute> privateTemplate(String label) {
    return new ArrayList<>(KeyTemplates.secretOrPrivate(new KeyTemplates.Policy(true, true, false, null, label)));
  }

  private Key generateSecret(Mechanism m, List<Attribute> t, String label) {
    forget(label);
    Attribute[] template = t.toArray(new Attribute[0]);
    try {
      return token.executeForObjects(s -> {
        long h = s.generateKey(m, template);
        return load(s, h, label);
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("generating " + label, e);
    }
  }

  private Key generatePair(Mechanism m, List<Attribute> pub, List<Attribute> priv, String label) {
    forget(label);
    // Both halves share one random CKA_ID, as the provider's KeyStore pairs them.
    byte[] id = KeyTemplates.newId();
    pub.add(Attribute.bytes(CKA.ID, id));
    priv.add(Attribute.bytes(CKA.ID, id));
    Attribute[] pt = pub.toArray(new Attribute[0]);
    Attribute[] st = priv.toArray(new Attribute[0]);
    try {
      return token.executeForObjects(s -> {
        KeyPairHandles h = s.generateKeyPair(m, pt, st);
        return load(s, h.privateKey(), label);
      });
    } catch (Pkcs11Exception e) {
      throw tokenError("generating " + label, e);
    }
  }

  private HsmKey load(io.hsmkit.pkcs11.Session s, long h, String label) {
    try {
      return HsmKeys.load(token, s, h);
    } catch (InvalidKeyException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "the new token key " + label + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static KmsException tokenError(String what, Pkcs11Exception e) {
    return new KmsException(KmsError.KMS_INTERNAL, "the default key store's token failed " + what + ": " + e.function() + " returned " + e.ckrName(), e);
  }

  /** DER OIDs of the named curves AWS offers. */
  public static final byte[] P256 = HexFormat.of().parseHex("06082a8648ce3d030107");
  public static final byte[] P384 = HexFormat.of().parseHex("06052b81040022");
  public static final byte[] P521 = HexFormat.of().parseHex("06052b81040023");
  public static final byte[] SECP256K1 = HexFormat.of().parseHex("06052b8104000a");
}
