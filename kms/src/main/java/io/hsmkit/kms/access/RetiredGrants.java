package io.hsmkit.kms.access;

/**
 * Tells whether a grant was retired or revoked, for grants that reach {@link PolicyAccessControl}
 * through a grant token only (before the grant shows in the key's grant list). The core stores
 * grants; it answers true for every id it ever retired or revoked, at least for the grant-token
 * window of {@link PolicyAccessControl}. Thread-safe.
 */
@FunctionalInterface
public interface RetiredGrants {
  boolean isRetiredOrRevoked(String grantId);

  /** For tests and for a service without grant tokens: nothing was ever retired. */
  RetiredGrants NONE = id -> false;
}
