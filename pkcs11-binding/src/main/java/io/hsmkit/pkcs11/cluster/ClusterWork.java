package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Session;

/**
 * Work the cluster runs on one member: a complete operation on {@code session}, with the
 * member's own handles for cluster keys from {@code keys} (handles differ between tokens).
 */
@FunctionalInterface
public interface ClusterWork<T, E extends Exception> {
  T apply(Session session, KeyHandles keys) throws E;

  /** The member's handle for a cluster key, found by class and CKA_ID and cached per member. */
  @FunctionalInterface
  interface KeyHandles {
    /** @throws KeyMissingException when this member does not (yet) hold the key */
    long handle(long objectClass, byte[] id);
  }
}
