package io.hsmkit.kms.backing.cluster;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.HsmKeyBacking;
import io.hsmkit.kms.backing.TokenLabels;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.ClusterOperationException;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.Provider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default key store's {@link io.hsmkit.kms.backing.KeyBacking} when the HsmKit provider
 * presents a cluster of tokens ({@code cluster = FILE} in its configuration): every key is a
 * replicated cluster key (made on one member, copied wrapped under the trusted cluster key, handed
 * out only once it is on {@code minReplicas} members), found by CKA_LABEL and then named by class
 * and CKA_ID, which are the same on every member, so every crypto call runs on whichever member
 * the cluster chooses and moves to another after a device error.
 *
 * <p>Keys are token objects, private and sensitive; they are CKA_EXTRACTABLE only with
 * CKA_WRAP_WITH_TRUSTED (they can leave a member only wrapped under the cluster's trusted key,
 * which is how they reach the other members): the KMS contract's "non-extractable" holds for
 * everything but the cluster's own replication.
 *
 * <p><b>Look-ups.</b> A label is searched for on one healthy member; a member that lacks it (a
 * copy that failed there without taking the member out) passes the search on to another member.
 * label -> key is cached in this object (keys carry no member handle, and the cluster caches each
 * member's handle by CKA_ID); {@link #destroy} and every creation forget the label. Deletion goes
 * through {@link Cluster#delete}: every object with the key's CKA_ID on every healthy member, a
 * tombstone for the others.
 *
 * <p>Errors: a failure of the cluster itself (no member answers within the retry budget) is
 * {@link KmsError#KMS_INVALID_STATE} naming the store and the members tried; a token's own refusal
 * is {@link KmsError#KMS_INTERNAL}.
 *
 * <p>BYOK import: the import wrapping key is a replicated RSA pair, and imported material is
 * unwrapped on one member into a replicated AES key (see {@link #unwrapAes}), so it is on
 * minReplicas members before ImportKeyMaterial answers. Thread-safe.
 */
public final class ClusterKeyBacking implements HsmKeyBacking {
  private static final String STORE = "the default key store (a cluster of tokens)";

  private final HsmKitProvider provider;
  private final TokenContext token;
  private final Cluster cluster;
  /** (label, class) -> key. */
  private final Map<String, HsmKey> cache = new ConcurrentHashMap<>();
  private final AtomicLong searches = new AtomicLong();

  /** {@code provider} must be configured with {@code cluster = FILE}. */
  public ClusterKeyBacking(HsmKitProvider provider) {
    this.provider = Objects.requireNonNull(provider, "provider");
    this.token = provider.tokenContext();
    if (!token.isCluster()) {
      throw new IllegalArgumentException("the HsmKit provider " + provider.getName() + " is not configured over a cluster");
    }
    this.cluster = token.cluster();
  }

  /** Whether {@code provider} presents a cluster (then the KMS's default store is a ClusterKeyBacking). */
  public static boolean isCluster(Provider provider) {
    return provider instanceof HsmKitProvider hp && hp.tokenContext() != null && hp.tokenContext().isCluster();
  }

  @Override
  public String customKeyStoreId() {
    return null;
  }

  @Override
  public Provider provider() {
    return provider;
  }

  /** The cluster (for status and tests). */
  public Cluster cluster() {
    return cluster;
  }

  /** How many label searches this backing sent to the cluster (the cache's misses; for tests). */
  public long searches() {
    return searches.get();
  }

  // ------------------------------------------------------------- creation

  @Override
  public Key createAes256(String label) {
    forget(label);
    ClusterKey k = generate("AES-256", label, () -> cluster.generateSecretKey(label, 32));
    return load(CKO.SECRET_KEY, k, label);
  }

  @Override
  public Key createHmac(String label, int bytes) {
    forget(label);
    ClusterKey k = generate("HMAC", label, () -> cluster.generateKey(label, Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN),
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET), Attribute.ulong(CKA.VALUE_LEN, bytes),
        Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true),
        // SoftHSM2 would default these to true: a KMS HMAC key does nothing else
        Attribute.bool(CKA.ENCRYPT, false), Attribute.bool(CKA.DECRYPT, false), Attribute.bool(CKA.WRAP, false),
        Attribute.bool(CKA.UNWRAP, false), Attribute.bool(CKA.DERIVE, false)));
    return load(CKO.SECRET_KEY, k, label);
  }

  @Override
  public Key createRsa(String label, int bits, boolean signing) {
    forget(label);
    ClusterKey k = generate("RSA-" + bits, label, () -> cluster.generateKeyPair(label, Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
        new Attribute[] {Attribute.ulong(CKA.MODULUS_BITS, bits), Attribute.bytes(CKA.PUBLIC_EXPONENT, new byte[] {1, 0, 1}),
            Attribute.bool(CKA.VERIFY, signing), Attribute.bool(CKA.ENCRYPT, !signing), Attribute.bool(CKA.WRAP, false)},
        new Attribute[] {Attribute.bool(CKA.SIGN, signing), Attribute.bool(CKA.DECRYPT, !signing), Attribute.bool(CKA.UNWRAP, false),
            Attribute.bool(CKA.DERIVE, false)}));
    return load(CKO.PRIVATE_KEY, k, label);
  }

  @Override
  public Key createEc(String label, byte[] curveOidDer) {
    forget(label);
    ClusterKey k = generate("EC", label, () -> cluster.generateEcKeyPair(label, curveOidDer));
    return load(CKO.PRIVATE_KEY, k, label);
  }

  /**
   * Runs a generation, once more (up to 3 attempts) when the member that made it failed and other
   * members are healthy: key generation is not idempotent for the cluster (the key may exist on
   * the failed member), but each attempt makes a new CKA_ID, and the cluster leaves a tombstone for
   * a failed attempt's key, so a retry cannot leave a second live key under the label.
   */
  private ClusterKey generate(String what, String label, java.util.function.Supplier<ClusterKey> make) {
    for (int attempt = 1; ; attempt++) {
      try {
        return make.get();
      } catch (ClusterException e) {
        boolean othersHealthy = cluster.members().stream().anyMatch(m -> m.health() == io.hsmkit.pkcs11.cluster.MemberHealth.HEALTHY);
        if (attempt >= 3 || !othersHealthy) {
          throw unavailable("generating the " + what + " key " + label, e);
        }
      } catch (Pkcs11Exception e) {
        throw tokenError("generating the " + what + " key " + label, e);
      }
    }
  }

  private HsmKey load(long cls, ClusterKey k, String label) {
    try {
      return token.executeWithKey(cls, k.id(), (s, h) -> HsmKeys.load(token, s, h));
    } catch (InvalidKeyException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "the new cluster key " + label + " cannot be read: " + e.getMessage(), e);
    } catch (KeyMissingException e) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, STORE + ": the new key " + label + " is on no healthy member", e);
    } catch (ClusterOperationException e) {
      throw unavailable("reading the new key " + label, e);
    } catch (Pkcs11Exception e) {
      throw tokenError("reading the new key " + label, e);
    }
  }

  // ------------------------------------------------------------- look-up

  @Override
  public Key find(String label) {
    // the cache first for both classes, so that a private key costs no secret-key search
    Key k = cache.get(cacheKey(label, CKO.SECRET_KEY));
    if (k == null) {
      k = cache.get(cacheKey(label, CKO.PRIVATE_KEY));
    }
    if (k != null) {
      return k;
    }
    k = findOf(label, CKO.SECRET_KEY);
    return k != null ? k : findOf(label, CKO.PRIVATE_KEY);
  }

  @Override
  public Key findPublic(String label) {
    return findOf(label, CKO.PUBLIC_KEY);
  }

  private static String cacheKey(String label, long cls) {
    return cls + "/" + label;
  }

  private Key findOf(String label, long cls) {
    Objects.requireNonNull(label, "label");
    HsmKey hit = cache.get(cacheKey(label, cls));
    if (hit != null) {
      return hit;
    }
    searches.incrementAndGet();
    HsmKey found;
    try {
      found = token.execute(s -> {
        long[] h = s.findObjects(2, Attribute.string(CKA.LABEL, label), Attribute.ulong(CKA.CLASS, cls), Attribute.bool(CKA.TOKEN, true));
        if (h.length == 0) {
          // this member may lack a key whose copy failed here: let the cluster ask another one
          throw new KeyMissingException("no object labelled " + label);
        }
        try {
          return HsmKeys.load(token, s, h[0]);
        } catch (InvalidKeyException e) {
          throw new KmsException(KmsError.KMS_INTERNAL, "the cluster object labelled " + label + " is not a usable key: " + e.getMessage(), e);
        }
      });
    } catch (KeyMissingException e) {
      return null; // no healthy member has it
    } catch (ClusterOperationException e) {
      throw unavailable("looking up " + label, e);
    } catch (Pkcs11Exception e) {
      throw tokenError("looking up " + label, e);
    }
    cache.put(cacheKey(label, cls), found);
    return found;
  }

  private void forget(String label) {
    for (long cls : new long[] {CKO.SECRET_KEY, CKO.PRIVATE_KEY, CKO.PUBLIC_KEY}) {
      cache.remove(cacheKey(label, cls));
    }
  }

  // ------------------------------------------------------------- deletion

  @Override
  public void destroy(String label) {
    forget(label);
    Map<String, ClusterKey> keys;
    try {
      keys = token.execute(s -> {
        Map<String, ClusterKey> out = new LinkedHashMap<>();
        for (long h : s.findObjects(Attribute.string(CKA.LABEL, label), Attribute.bool(CKA.TOKEN, true))) {
          Attribute[] a = s.getAttributes(h, CKA.ID, CKA.CLASS);
          if (a[0].present() && a[0].length() > 0) {
            long cls = a[1].asUlong();
            out.merge(java.util.HexFormat.of().formatHex(a[0].value()), new ClusterKey(label, a[0].value(), cls != CKO.SECRET_KEY),
                (x, y) -> x.pair() ? x : y);
          }
        }
        return out;
      });
    } catch (ClusterOperationException e) {
      throw unavailable("destroying " + label, e);
    } catch (Pkcs11Exception e) {
      throw tokenError("destroying " + label, e);
    }
    for (ClusterKey k : keys.values()) {
      try {
        cluster.delete(k);
      } catch (ClusterException e) {
        throw unavailable("destroying " + label, e);
      } catch (Pkcs11Exception e) {
        throw tokenError("destroying " + label, e);
      }
    }
    forget(label);
  }

  // ------------------------------------------------------------- crypto helpers

  @Override
  public boolean has(long mechanism) {
    return token.has(mechanism);
  }

  @Override
  public byte[] signDigest(Key key, Mechanism mechanism, byte[] digest) {
    HsmKey k = (HsmKey) key;
    try {
      return token.executeWithKey(CKO.PRIVATE_KEY, k.id(), (s, h) -> s.sign(mechanism, h, digest));
    } catch (KeyMissingException e) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, STORE + ": the signing key is on no healthy member", e);
    } catch (ClusterOperationException e) {
      throw unavailable("signing", e);
    } catch (Pkcs11Exception e) {
      throw tokenError("signing", e);
    }
  }

  @Override
  public boolean verifyDigest(Key key, Mechanism mechanism, byte[] digest, byte[] signature) {
    HsmKey k = (HsmKey) key;
    try {
      return token.executeWithKey(CKO.PUBLIC_KEY, k.id(), (s, h) -> s.verify(mechanism, h, digest, signature));
    } catch (Pkcs11Exception e) {
      if (e.isAny(CKR.SIGNATURE_INVALID, CKR.SIGNATURE_LEN_RANGE)) {
        return false;
      }
      throw tokenError("verifying", e);
    } catch (KeyMissingException e) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, STORE + ": the verification key is on no healthy member", e);
    } catch (ClusterOperationException e) {
      throw unavailable("verifying", e);
    }
  }

  // ------------------------------------------------------------- import (BYOK)

  /**
   * The import wrapping key: a replicated RSA pair (the private half can unwrap on any member, so
   * ImportKeyMaterial works whichever member the cluster chooses, and after the one that made it
   * failed). The public half only wraps; the private half only unwraps.
   */
  @Override
  public Key createUnwrappingRsa(String label, int bits) {
    forget(label);
    generate("RSA-" + bits + " import wrapping", label, () -> cluster.generateKeyPair(label, Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
        new Attribute[] {Attribute.ulong(CKA.MODULUS_BITS, bits), Attribute.bytes(CKA.PUBLIC_EXPONENT, new byte[] {1, 0, 1}),
            Attribute.bool(CKA.WRAP, true), Attribute.bool(CKA.ENCRYPT, false), Attribute.bool(CKA.VERIFY, false)},
        new Attribute[] {Attribute.bool(CKA.UNWRAP, true), Attribute.bool(CKA.DECRYPT, false), Attribute.bool(CKA.SIGN, false),
            Attribute.bool(CKA.DERIVE, false)}));
    return findPublic(label);
  }

  /**
   * C_UnwrapKey (RSAES-OAEP-SHA-1, as on one token) on one member with that member's handle of the
   * replicated private key labelled {@code unwrappingLabel}, into a replicated AES key labelled
   * {@code label} ({@link Cluster#create}: copied under the trusted cluster key, returned once it
   * is on minReplicas members). Null when the token refuses the wrapped bytes or they are not a
   * 256-bit key. The material never exists in this JVM.
   */
  @Override
  public Key unwrapAes(String unwrappingLabel, byte[] wrapped, String label) {
    Objects.requireNonNull(label, "label");
    forget(label);
    Key unwrapping = findOf(unwrappingLabel, CKO.PRIVATE_KEY);
    if (unwrapping == null) {
      return null;
    }
    byte[] uid = ((HsmKey) unwrapping).id();
    Mechanism oaep = Mechanism.of(CKM.RSA_PKCS_OAEP, new io.hsmkit.pkcs11.raw.MechanismParams.Oaep(CKM.SHA_1,
        io.hsmkit.pkcs11.constants.CKG.MGF1_SHA1, io.hsmkit.pkcs11.constants.CKZ.DATA_SPECIFIED, null));
    for (int attempt = 1; ; attempt++) {
      // a fresh CKA_ID per attempt: a failed attempt's key is tombstoned by the cluster under its id
      byte[] id = io.hsmkit.provider.keys.KeyTemplates.newId();
      Attribute[] template = unwrapTemplate(label, id);
      try {
        cluster.create(new ClusterKey(label, id, false), (s, keys) -> {
          long h = s.unwrapKey(oaep, keys.handle(CKO.PRIVATE_KEY, uid), wrapped, template);
          // SoftHSM2 2.6.1 records no CKA_VALUE_LEN for an unwrapped key, and a key with
          // CKA_WRAP_WITH_TRUSTED wraps only under a trusted key (a user cannot set that attribute
          // after creation: CKR_ATTRIBUTE_READ_ONLY, measured). The length is learnt by wrapping the
          // key once under the member's trusted cluster wrapping key with AES-KW (no padding: the
          // output is exactly length + 8 bytes, and a length that is not a multiple of 8 fails); the
          // wrapped bytes are dropped, as the cluster's own copy makes its own.
          int length;
          try {
            long[] cwk = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY),
                Attribute.bytes(CKA.ID, ClusterAdmin.WRAP_KEY_LABEL.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            if (cwk.length != 1) {
              throw new IllegalStateException(cwk.length + " cluster wrapping keys on the member (want 1)");
            }
            length = s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), cwk[0], h).length - 8;
          } catch (RuntimeException e) {
            s.destroyObject(h);
            throw e;
          }
          if (length != 32) {
            s.destroyObject(h);
            // the token's kind of answer to wrapped bytes that are not what was asked for
            throw new Pkcs11Exception("C_UnwrapKey", CKR.WRAPPED_KEY_INVALID);
          }
          return null;
        });
      } catch (ClusterException e) {
        boolean othersHealthy = cluster.members().stream().anyMatch(m -> m.health() == io.hsmkit.pkcs11.cluster.MemberHealth.HEALTHY);
        if (e.getCause() == null || attempt >= 3 || !othersHealthy) {
          throw unavailable("importing key material into " + label, e);
        }
        continue;
      } catch (KeyMissingException e) {
        return null; // the import token's wrapping key is on no healthy member
      } catch (Pkcs11Exception e) {
        if (e.isAny(CKR.DEVICE_ERROR, CKR.DEVICE_REMOVED, CKR.SESSION_HANDLE_INVALID, CKR.TOKEN_NOT_PRESENT, CKR.DEVICE_MEMORY)) {
          throw tokenError("importing key material into " + label, e);
        }
        return null; // the token's answer to the wrapped bytes (bad padding, wrong key, wrong length)
      }
      return load(CKO.SECRET_KEY, new ClusterKey(label, id, false), label);
    }
  }

  /** Placement of a replicated key (as {@link Cluster#create} asks), AES encrypt/decrypt only. */
  private static Attribute[] unwrapTemplate(String label, byte[] id) {
    return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
        Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SENSITIVE, true),
        Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true), Attribute.string(CKA.LABEL, label),
        Attribute.bytes(CKA.ID, id), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true), Attribute.bool(CKA.SIGN, false),
        Attribute.bool(CKA.VERIFY, false), Attribute.bool(CKA.WRAP, false), Attribute.bool(CKA.UNWRAP, false),
        Attribute.bool(CKA.DERIVE, false)};
  }

  /**
   * A new label over a cluster cannot be set in place (a member that is down would keep the old
   * one, and a later destroy by the old label would find the live key there). The key is copied
   * instead (C_CopyObject on one member: same material and attributes, the new label and a new
   * CKA_ID), replicated as a new cluster key, and the old one deleted from every member.
   */
  @Override
  public void relabel(Key key, String label) {
    HsmKey old = (HsmKey) key;
    forget(old.label());
    forget(label);
    byte[] oldId = old.id();
    for (int attempt = 1; ; attempt++) {
      byte[] id = io.hsmkit.provider.keys.KeyTemplates.newId();
      try {
        cluster.create(new ClusterKey(label, id, false), (s, keys) ->
            s.copyObject(keys.handle(CKO.SECRET_KEY, oldId), Attribute.string(CKA.LABEL, label), Attribute.bytes(CKA.ID, id)));
        break;
      } catch (ClusterException e) {
        boolean othersHealthy = cluster.members().stream().anyMatch(m -> m.health() == io.hsmkit.pkcs11.cluster.MemberHealth.HEALTHY);
        if (e.getCause() == null || attempt >= 3 || !othersHealthy) {
          throw unavailable("relabelling " + label, e);
        }
      } catch (KeyMissingException e) {
        throw new KmsException(KmsError.KMS_INVALID_STATE, STORE + ": the key to relabel as " + label + " is on no healthy member", e);
      } catch (Pkcs11Exception e) {
        throw tokenError("relabelling " + label, e);
      }
    }
    try {
      cluster.delete(new ClusterKey(old.label(), oldId, false));
    } catch (ClusterException e) {
      throw unavailable("relabelling " + label, e);
    } catch (Pkcs11Exception e) {
      throw tokenError("relabelling " + label, e);
    }
    forget(old.label());
    forget(label);
  }

  // ------------------------------------------------------------- reconciliation

  @Override
  public Set<String> labels(String prefix) {
    try {
      return TokenLabels.startingWith(token, prefix);
    } catch (ClusterOperationException e) {
      throw unavailable("listing labels", e);
    } catch (Pkcs11Exception e) {
      throw tokenError("listing labels", e);
    }
  }

  // ------------------------------------------------------------- errors

  /** The cluster's failure: its message names each member tried and its error (never data or PINs). */
  private static KmsException unavailable(String what, RuntimeException e) {
    return new KmsException(KmsError.KMS_INVALID_STATE, STORE + " cannot be reached " + what + ": " + e.getMessage(), e);
  }

  private static KmsException tokenError(String what, Pkcs11Exception e) {
    return new KmsException(KmsError.KMS_INTERNAL, STORE + " failed " + what + ": " + e.function() + " returned " + e.ckrName(), e);
  }
}
