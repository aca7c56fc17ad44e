package io.hsmkit.kms.cks;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.KeyBackings;
import java.util.Objects;

/**
 * {@link KeyBackings} over the default store (given, for {@code null}) and the custom key stores
 * of a {@link CustomKeyStores}.
 *
 * <p>{@link #forStore}: the default backing for {@code null}; for a custom key store id,
 * CUSTOM_KEY_STORE_NOT_FOUND when unknown, KEY_UNAVAILABLE naming the state when it is not
 * CONNECTED, KMS_INVALID_STATE when it is CONNECTED but its token cannot be reached. Each call
 * reads the store's state from the database, so a store disconnected by another node is
 * unavailable here too.
 */
public final class CustomKeyStoreBackings implements KeyBackings {
  private final KeyBacking defaultStore;
  private final CustomKeyStores stores;

  public CustomKeyStoreBackings(KeyBacking defaultStore, CustomKeyStores stores) {
    this.defaultStore = Objects.requireNonNull(defaultStore, "defaultStore");
    this.stores = Objects.requireNonNull(stores, "stores");
  }

  @Override
  public KeyBacking forStore(String customKeyStoreId) {
    return customKeyStoreId == null ? defaultStore : stores.backing(customKeyStoreId);
  }

  /** True for the default store and for a CONNECTED custom key store; false for an unknown id too. */
  @Override
  public boolean isAvailable(String customKeyStoreId) {
    if (customKeyStoreId == null) {
      return true;
    }
    try {
      return stores.state(customKeyStoreId).orElse(null) == ConnectionState.CONNECTED;
    } catch (KmsException e) {
      if (e.error() == KmsError.VALIDATION) {
        return false;
      }
      throw e;
    }
  }
}
