package io.hsmkit.kms.backing;

import java.security.Key;
import java.security.Provider;

/**
 * Where the key material of a set of KMS keys lives: one HSM token reached through an HsmKit
 * provider. The default store is the embedded token; each connected custom key store is one.
 *
 * <p>Contract: keys are persistent token objects, sensitive and non-extractable, labelled with
 * the label the service gives (the KMS key ARN, plus a version suffix after rotation). Every
 * method throws {@link io.hsmkit.kms.KmsException} only: {@code KMS_INVALID_STATE} naming the
 * store when its token cannot be reached while connected, {@code KEY_UNAVAILABLE} /
 * {@code CUSTOM_KEY_STORE_INVALID_STATE} when the store is not connected. Thread-safe.
 */
public interface KeyBacking {
  /** {@code null} for the default store, else the custom key store id ({@code cks-...}). */
  String customKeyStoreId();

  /** The HsmKit provider instance bound to this store's token, for Cipher/Signature/Mac. */
  Provider provider();

  /** Creates a persistent, sensitive, non-extractable AES-256 key labelled {@code label}. */
  Key createAes256(String label);

  /** The token key labelled {@code label}, or null when the token has none. */
  Key find(String label);

  /** Destroys the token object(s) labelled {@code label}; no error when there are none. */
  void destroy(String label);
}
