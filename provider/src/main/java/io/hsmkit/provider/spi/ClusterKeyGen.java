package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Key generation of a provider over a cluster: the cluster makes a replicated key (a token key,
 * sensitive, extractable only wrapped under the trusted cluster key) and hands it out once it is on
 * {@code minReplicas} members; this reads it back as an {@link HsmKey} named by class and CKA_ID.
 * The provider's key policy (keys.token, keys.extractable) does not apply: a replicated key is a
 * token object by necessity, and leaves a member only to another member.
 */
final class ClusterKeyGen {
  private static final SecureRandom RANDOM = new SecureRandom();

  private ClusterKeyGen() {}

  /** A label for a new key (the KeyStore's alias): {@code hsmkit-<kind>-<8 hex digits>}. */
  private static String label(String kind) {
    byte[] r = new byte[4];
    RANDOM.nextBytes(r);
    return "hsmkit-" + kind + "-" + HexFormat.of().formatHex(r);
  }

  /**
   * Runs a generation, again (3 attempts at most) when it failed on the member that made it while
   * other members are healthy. Generation is not idempotent for the cluster (the key may exist on
   * the failed member), but each attempt makes a new CKA_ID and label, and the cluster tombstones
   * a failed attempt's key, so no second live key is left behind.
   */
  private static ClusterKey retry(TokenContext token, java.util.function.Supplier<ClusterKey> make) {
    for (int attempt = 1; ; attempt++) {
      try {
        return make.get();
      } catch (ClusterException e) {
        if (attempt >= 3 || token.cluster().members().stream().noneMatch(m -> m.health() == io.hsmkit.pkcs11.cluster.MemberHealth.HEALTHY)) {
          throw e;
        }
      }
    }
  }

  /** An AES key of {@code bytes} bytes for encryption and decryption. */
  static HsmSecretKey aes(TokenContext token, int bytes) {
    ClusterKey k;
    try {
      k = retry(token, () -> token.cluster().generateSecretKey(label("aes"), bytes));
    } catch (ClusterException e) {
      throw TokenContext.clusterFailure("AES key generation", e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider("AES key generation", e);
    }
    return (HsmSecretKey) load(token, CKO.SECRET_KEY, k, "AES key generation");
  }

  /** An EC key pair for signing on the curve {@code ecParams} (DER). */
  static KeyPair ec(TokenContext token, byte[] ecParams, String what) {
    ClusterKey k;
    try {
      k = retry(token, () -> token.cluster().generateEcKeyPair(label("ec"), ecParams));
    } catch (ClusterException e) {
      throw TokenContext.clusterFailure(what + " key pair generation", e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider(what + " key pair generation", e);
    }
    HsmPublicKey pub = (HsmPublicKey) load(token, CKO.PUBLIC_KEY, k, what);
    HsmPrivateKey priv = (HsmPrivateKey) load(token, CKO.PRIVATE_KEY, k, what);
    return new KeyPair(pub, priv);
  }

  /**
   * A generic secret of {@code bytes} bytes for HMAC (sign and verify; {@code derive} for the
   * GenericSecret kind), named {@code algorithm} as the JCA KeyGenerator was asked.
   */
  static HsmSecretKey hmac(TokenContext token, int bytes, boolean derive, String algorithm) {
    ClusterKey k;
    try {
      k = retry(token, () -> token.cluster().generateKey(label("hmac"), Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN),
          Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET),
          Attribute.ulong(CKA.VALUE_LEN, bytes), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true),
          // SoftHSM2 would default these to true: an HMAC key does nothing else
          Attribute.bool(CKA.ENCRYPT, false), Attribute.bool(CKA.DECRYPT, false), Attribute.bool(CKA.WRAP, false),
          Attribute.bool(CKA.UNWRAP, false), Attribute.bool(CKA.DERIVE, derive)));
    } catch (ClusterException e) {
      throw TokenContext.clusterFailure(algorithm + " key generation", e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider(algorithm + " key generation", e);
    }
    HsmSecretKey loaded = (HsmSecretKey) load(token, CKO.SECRET_KEY, k, algorithm + " key generation");
    // the same key under the algorithm name the caller asked for (Mac.init checks the key type, not the name)
    return new HsmSecretKey(infoOf(loaded), algorithm, bytes * 8);
  }

  /** An RSA key pair of {@code bits} with public exponent {@code exponent} (unsigned big-endian): sign/verify and encrypt/decrypt. */
  static KeyPair rsa(TokenContext token, int bits, byte[] exponent) {
    ClusterKey k;
    try {
      k = retry(token, () -> token.cluster().generateKeyPair(label("rsa"), Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
          new Attribute[] {Attribute.ulong(CKA.MODULUS_BITS, bits), Attribute.bytes(CKA.PUBLIC_EXPONENT, exponent),
              Attribute.bool(CKA.VERIFY, true), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.WRAP, false)},
          // no CKA_UNWRAP: a key unwrapped with it would be a session object on one member
          new Attribute[] {Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.DECRYPT, true), Attribute.bool(CKA.UNWRAP, false),
              Attribute.bool(CKA.DERIVE, false)}));
    } catch (ClusterException e) {
      throw TokenContext.clusterFailure("RSA-" + bits + " key pair generation", e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider("RSA-" + bits + " key pair generation", e);
    }
    HsmPublicKey pub = (HsmPublicKey) load(token, CKO.PUBLIC_KEY, k, "RSA-" + bits);
    HsmPrivateKey priv = (HsmPrivateKey) load(token, CKO.PRIVATE_KEY, k, "RSA-" + bits);
    return new KeyPair(pub, priv);
  }

  private static HsmKey.KeyInfo infoOf(HsmKey k) {
    return new HsmKey.KeyInfo(k.token(), 0, k.objectClass(), k.keyType(), k.id(), k.label(), k.isTokenObject(), k.isSensitive(), k.isExtractable());
  }

  private static HsmKey load(TokenContext token, long cls, ClusterKey k, String what) {
    try {
      return token.executeWithKey(cls, k.id(), (s, h) -> HsmKeys.load(token, s, h));
    } catch (InvalidKeyException e) {
      throw new ProviderException(what + ": cannot read the new key back: " + e.getMessage(), e);
    } catch (Pkcs11Exception e) {
      throw Errors.provider(what + ": reading the new key back", e);
    }
  }
}
