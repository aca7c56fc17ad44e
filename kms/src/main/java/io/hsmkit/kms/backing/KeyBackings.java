package io.hsmkit.kms.backing;

/**
 * Finds the {@link KeyBacking} of a key store: the default store for {@code null}, else a custom
 * key store by id. Contract: {@link #forStore} throws {@link io.hsmkit.kms.KmsException} with
 * {@code CUSTOM_KEY_STORE_NOT_FOUND} for an unknown id and {@code KEY_UNAVAILABLE} naming the
 * store's state when it is not CONNECTED (so a KMS key in a disconnected store is Unavailable).
 */
public interface KeyBackings {
  KeyBacking forStore(String customKeyStoreId);

  /**
   * Whether the store's keys are usable now (the default store always; a custom key store when
   * CONNECTED). DescribeKey shows KeyState {@code Unavailable} for keys of a store that is not.
   */
  boolean isAvailable(String customKeyStoreId);
}
