package io.hsmkit.kms.backing.token;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.KeyBackings;
import java.util.Objects;

/**
 * {@link KeyBackings} with the default store only: {@code null} gives the embedded token's
 * backing; any custom key store id is {@code CUSTOM_KEY_STORE_NOT_FOUND}. The custom-key-store
 * part supplies the full implementation; this one serves tests and a service without custom stores.
 */
public final class DefaultKeyBackings implements KeyBackings {
  private final KeyBacking defaultStore;

  public DefaultKeyBackings(KeyBacking defaultStore) {
    this.defaultStore = Objects.requireNonNull(defaultStore, "defaultStore");
  }

  @Override
  public KeyBacking forStore(String customKeyStoreId) {
    if (customKeyStoreId == null) {
      return defaultStore;
    }
    throw new KmsException(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, "custom key store " + customKeyStoreId + " does not exist");
  }

  @Override
  public boolean isAvailable(String customKeyStoreId) {
    return customKeyStoreId == null;
  }
}
