package io.hsmkit.kms.access;

import io.hsmkit.kms.KmsException;

/**
 * Decides every call of the KMS service before it acts. Contract: returns normally when the
 * request is allowed; otherwise throws {@link KmsException} with
 * {@link io.hsmkit.kms.KmsError#ACCESS_DENIED} (or {@code INVALID_GRANT_TOKEN} for a malformed
 * grant token) and a message that names the principal, the action and the key, as AWS does.
 * An explicit Deny in the key policy beats any Allow; an Allow in the key policy or a matching
 * grant (operation listed, constraints met) allows; anything else is denied.
 * Implementations are thread-safe and do no I/O.
 */
@FunctionalInterface
public interface AccessControl {
  void check(AccessRequest request);

  /** Allows everything: only for tests of other parts of the service. */
  AccessControl ALLOW_ALL = r -> {};
}
