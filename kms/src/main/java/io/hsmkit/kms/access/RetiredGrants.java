package io.hsmkit.kms.access;

/**
 * Formerly told {@link PolicyAccessControl} whether a grant known only through a grant token was
 * retired or revoked. Grant tokens no longer carry grants ({@link GrantTokenLookup}), so nothing
 * asks it any more; it stays only for the deprecated constructor
 * {@link PolicyAccessControl#PolicyAccessControl(GrantTokenLookup, RetiredGrants)}.
 *
 * @deprecated nothing uses it; pass a {@link GrantTokenLookup} instead
 */
@Deprecated(forRemoval = true)
@FunctionalInterface
public interface RetiredGrants {
  boolean isRetiredOrRevoked(String grantId);

  /** Nothing was ever retired. */
  RetiredGrants NONE = id -> false;
}
