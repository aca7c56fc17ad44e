package io.hsmkit.kms.access;

/**
 * Says whether a grant token is one the service issued, for a grant that still exists. The service
 * has one grant-token scheme: CreateGrant returns an opaque random token stored with the grant's
 * row, and a grant counts as soon as CreateGrant commits (it is then in
 * {@link AccessRequest#grants()}), so a token never brings a grant of its own: it must only name a
 * grant the service holds, else the request is {@code InvalidGrantTokenException}, as AWS answers a
 * token it cannot read. A retired or revoked grant's row is gone, and with it its token.
 * The server's implementation looks the token up in the database
 * ({@code io.hsmkit.kms.server.ServerAccessControl#grantTokensIn}). Thread-safe.
 */
@FunctionalInterface
public interface GrantTokenLookup {
  /** Whether {@code token} (non-empty, at most 8192 characters) is the token of an existing grant. */
  boolean isIssued(String token);

  /** A service that has issued no token: every token is invalid. */
  GrantTokenLookup NONE = token -> false;
}
