package io.hsmkit.kms.access;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.provider.keys.HsmKey;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.util.Objects;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/**
 * The service's own token keys (the principal-secret wrapping key, the audit trail's MAC key):
 * found by label in the HsmKit KeyStore, or generated on first use in the token through the
 * provider's KeyGenerator and made a labelled token object through the KeyStore. The key must be
 * sensitive and not extractable, whatever the provider's {@code keys.*} configuration says; one
 * that is not is refused.
 */
public final class TokenKeys {
  private TokenKeys() {}

  /**
   * The secret key {@code label} if the provider's token holds it (checked as {@link #getOrCreate}
   * checks it), else empty; never creates one.
   */
  public static java.util.Optional<SecretKey> find(Provider provider, String label) {
    Objects.requireNonNull(provider, "provider");
    try {
      KeyStore ks = keyStore(provider);
      Key k = ks.getKey(label, null);
      if (k == null) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(check(label, k));
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "cannot look for token key " + label + ": " + e.getMessage(), e);
    }
  }

  /** Finds or creates the secret key {@code label} ({@code algorithm}, {@code bits}) in the provider's token. */
  public static SecretKey getOrCreate(Provider provider, String label, String algorithm, int bits) {
    Objects.requireNonNull(provider, "provider");
    try {
      KeyStore ks = keyStore(provider);
      Key k = ks.getKey(label, null);
      if (k == null) {
        // One JVM makes the key once; two nodes racing on a fresh token could both make one, and
        // the KeyStore then finds one of them for each: the first caller's wins from then on, as
        // both re-read it by label below.
        synchronized (TokenKeys.class) {
          k = ks.getKey(label, null);
          if (k == null) {
            // The provider's KeyGenerator follows its keys.sensitive / keys.extractable settings:
            // refuse before anything is made rather than leave a weak key in the token.
            if (provider instanceof io.hsmkit.provider.HsmKitProvider hp && hp.config() != null
                && (!hp.config().keysSensitive() || hp.config().keysExtractable())) {
              throw new KmsException(KmsError.KMS_INTERNAL, "cannot create token key " + label
                  + ": the HsmKit provider is configured to make non-sensitive or extractable keys (keys.sensitive / keys.extractable)");
            }
            if (io.hsmkit.kms.backing.cluster.ClusterKeyBacking.isCluster(provider)) {
              // Over a cluster the key is made replicated under its label at once: the cluster's
              // KeyStore takes no relabelling (a member that is down would keep the old label).
              io.hsmkit.kms.backing.cluster.ClusterKeyBacking cb =
                  new io.hsmkit.kms.backing.cluster.ClusterKeyBacking((io.hsmkit.provider.HsmKitProvider) provider);
              if (!algorithm.startsWith("Hmac") && !(algorithm.equals("AES") && bits == 256)) {
                throw new KmsException(KmsError.KMS_INTERNAL, "token key " + label + ": over a cluster only AES-256 and HMAC keys are made here");
              }
              return check(label, algorithm.startsWith("Hmac") ? cb.createHmac(label, bits / 8) : cb.createAes256(label));
            }
            KeyGenerator g = KeyGenerator.getInstance(algorithm, provider);
            g.init(bits);
            SecretKey fresh = g.generateKey();
            ks.setKeyEntry(label, fresh, null, null);
            if (fresh instanceof HsmKey hk) {
              hk.destroyWhenUnreachable(); // the session copy; the token object stays
            }
            k = ks.getKey(label, null);
          }
        }
      }
      return check(label, k);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "cannot find or create token key " + label + ": " + e.getMessage(), e);
    }
  }

  /** The provider's HsmKit KeyStore, loaded (no stream, no password: the token context is logged in). */
  private static KeyStore keyStore(Provider provider) throws GeneralSecurityException, java.io.IOException {
    KeyStore ks = KeyStore.getInstance("HsmKit", provider);
    ks.load(null, null);
    return ks;
  }

  private static SecretKey check(String label, Key k) {
    if (!(k instanceof HsmKey hk) || !(k instanceof SecretKey sk)) {
      throw new KmsException(KmsError.KMS_INTERNAL, "token key " + label + " is not a secret key of the token");
    }
    // A cluster key is CKA_EXTRACTABLE only with CKA_WRAP_WITH_TRUSTED (the cluster's KeyStore
    // lists no other keys, and the cluster makes no other): it leaves a member only wrapped under
    // the trusted cluster key, to reach another member.
    if (!hk.isTokenObject() || !hk.isSensitive() || (hk.isExtractable() && !hk.isClustered())) {
      throw new KmsException(KmsError.KMS_INTERNAL, "token key " + label + " must be a sensitive, non-extractable token object");
    }
    return sk;
  }
}
