package io.hsmkit.provider.internal;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.ClusterWork;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmSecretKey;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Keys that a provider over a cluster makes other than by generation: imported (KeyFactory,
 * SecretKeyFactory), unwrapped (AESWrap) and derived (ECDH). A key made on one member only would
 * vanish from the caller's view as soon as the cluster sends the next operation elsewhere, so each
 * is made on one member as a replicable token key and copied to the others by
 * {@code Cluster.create} (wrapped under the trusted cluster key), and handed out only once it is on
 * {@code minReplicas} members; otherwise it is destroyed and the caller gets a
 * {@link io.hsmkit.provider.ClusterOperationException}.
 *
 * <p>The provider's key policy ({@code keys.token}, {@code keys.sensitive}, {@code keys.extractable})
 * does not apply, as for generated cluster keys ({@code ClusterKeyGen}): a replicated key is a
 * token object, private, sensitive, and extractable only wrapped under a key the security officer
 * marked trusted (CKA_WRAP_WITH_TRUSTED), which is what lets the cluster copy it and what keeps it
 * from leaving under any other key. Its usage attributes are the caller's.
 */
public final class ReplicatedKeys {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Attributes of where a key lives and who may read it: set here, whatever the caller's template said. */
  private static final Set<Long> PLACEMENT = Set.of(CKA.TOKEN, CKA.PRIVATE, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.ID, CKA.LABEL,
      CKA.WRAP_WITH_TRUSTED);

  private ReplicatedKeys() {}

  /** Creates the key on the member it runs on from {@code template}, with that member's handles for cluster keys. */
  @FunctionalInterface
  public interface Make {
    void make(Session s, ClusterWork.KeyHandles keys, Attribute[] template);
  }

  /** A label for a new key (the cluster KeyStore's alias): {@code hsmkit-<kind>-<8 hex digits>}. */
  static String label(String kind) {
    byte[] r = new byte[4];
    RANDOM.nextBytes(r);
    return "hsmkit-" + kind + "-" + HexFormat.of().formatHex(r);
  }

  /**
   * {@code usage} (class, type, value, usage flags) with the placement of a replicated key: token,
   * private, sensitive, CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED, {@code label} and {@code id}.
   * Placement attributes in {@code usage} are dropped.
   */
  static Attribute[] template(List<Attribute> usage, String label, byte[] id) {
    List<Attribute> t = new ArrayList<>();
    for (Attribute a : usage) {
      if (!PLACEMENT.contains(a.type())) {
        t.add(a);
      }
    }
    t.add(Attribute.bool(CKA.TOKEN, true));
    t.add(Attribute.bool(CKA.PRIVATE, true));
    t.add(Attribute.bool(CKA.SENSITIVE, true));
    t.add(Attribute.bool(CKA.EXTRACTABLE, true));
    t.add(Attribute.bool(CKA.WRAP_WITH_TRUSTED, true));
    t.add(Attribute.string(CKA.LABEL, label));
    t.add(Attribute.bytes(CKA.ID, id));
    return t.toArray(new Attribute[0]);
  }

  /** The CKA_LABEL in {@code t}, or null. */
  private static String labelIn(List<Attribute> t) {
    for (Attribute a : t) {
      if (a.type() == CKA.LABEL && a.present()) {
        return a.asString();
      }
    }
    return null;
  }

  /**
   * Makes a replicated secret or private key (class {@code cls}) with {@code make} and reads it
   * back. {@code usage}: the key's attributes without placement (see {@link #template}); its
   * CKA_LABEL is kept if it has one, else the key is labelled {@code hsmkit-<kind>-XXXXXXXX}.
   * {@code bits}: the length of a secret key when the caller knows it (a copy made by C_UnwrapKey
   * may read CKA_VALUE_LEN 0 on SoftHSM2), else 0.
   *
   * @throws InvalidKeyException the token refused the key (its template or value), or a cluster key
   *     {@code make} needs is on no healthy member
   * @throws io.hsmkit.provider.ClusterOperationException the cluster could not make or replicate it
   */
  public static HsmKey create(TokenContext token, String what, String kind, long cls, List<Attribute> usage, int bits, Make make)
      throws InvalidKeyException {
    String given = labelIn(usage);
    String label = given != null ? given : label(kind);
    Cluster cluster = token.cluster();
    for (int attempt = 1; ; attempt++) {
      // A fresh CKA_ID per attempt: an attempt that failed may have left the key on the member that
      // failed, and the cluster's tombstone for that id removes it when the member returns.
      byte[] id = io.hsmkit.provider.keys.KeyTemplates.newId();
      Attribute[] template = template(usage, label, id);
      try {
        cluster.create(new ClusterKey(label, id, cls == CKO.PRIVATE_KEY), (s, keys) -> {
          make.make(s, keys, template);
          return null;
        });
        return load(token, what, cls, id, bits);
      } catch (ClusterException e) {
        // Making a key is not repeated by the cluster itself (it may have taken effect): it is
        // repeated here under a new id when the member that made it failed (the exception has that
        // member's error as cause), while enough members are healthy to hold it. A key made but not
        // copied (no cause: the copies failed, for a reason that would come back) is not repeated.
        if (e.getCause() == null || attempt >= ATTEMPTS || healthy(cluster) < cluster.config().minReplicas()) {
          throw TokenContext.clusterFailure(what, e);
        }
      } catch (KeyMissingException e) {
        throw missing(what, "a key it needs", e);
      } catch (Pkcs11Exception e) {
        throw refused(what, e);
      }
    }
  }

  /**
   * A key of a cluster operation that is on no healthy member, as the InvalidKeyException a JCA
   * caller expects; {@code which} names the key ("the key", "a key it needs").
   */
  public static InvalidKeyException missing(String what, String which, KeyMissingException e) {
    InvalidKeyException ike = new InvalidKeyException(what + ": " + which + " is on no healthy member of the cluster");
    ike.initCause(e);
    return ike;
  }

  /**
   * The token's error for a cluster operation on keys, as JCA sees it: an InvalidKeyException
   * returned (to throw), or a ProviderException thrown for a device error.
   */
  public static InvalidKeyException refused(String what, Pkcs11Exception e) {
    if (e.is(CKR.GENERAL_ERROR)) {
      // SoftHSM2's answer to a wrapped key that fails its integrity check (a member that
      // answered the cluster's probe: the token's answer to this input)
      InvalidKeyException ike = new InvalidKeyException(what + ": the token refused the key (" + e.ckrName() + ")");
      ike.initCause(e);
      return ike;
    }
    if (Errors.kind(e) == Errors.Kind.PROVIDER) {
      throw Errors.provider(what, e);
    }
    return Errors.invalidKey(what, e);
  }

  private static int healthy(Cluster c) {
    int n = 0;
    for (Member m : c.members()) {
      if (m.health() == MemberHealth.HEALTHY) {
        n++;
      }
    }
    return n;
  }

  /** How often a key is made again after the cluster failed to make or replicate it. */
  private static final int ATTEMPTS = 3;

  /** The cluster key of class {@code cls} and CKA_ID {@code id}, read on one member. */
  static HsmKey load(TokenContext token, String what, long cls, byte[] id, int bits) throws InvalidKeyException {
    HsmKey k;
    try {
      k = token.executeWithKey(cls, id, (s, h) -> HsmKeys.load(token, s, h));
    } catch (KeyMissingException e) {
      InvalidKeyException ike = new InvalidKeyException(what + ": the new key is on no healthy member of the cluster");
      ike.initCause(e);
      throw ike;
    } catch (Pkcs11Exception e) {
      throw Errors.provider(what + ": reading the new key back", e);
    }
    if (k instanceof HsmSecretKey sk && bits > 0 && sk.bits() != bits) {
      return new HsmSecretKey(new HsmKey.KeyInfo(token, 0, sk.objectClass(), sk.keyType(), sk.id(), sk.label(), sk.isTokenObject(),
          sk.isSensitive(), sk.isExtractable()), sk.getAlgorithm(), bits);
    }
    return k;
  }
}
