/**
 * KMS semantics over the HSM: named keys with states, aliases, grants, policies, envelope
 * encryption and rotation, with key material that stays in HsmKit tokens.
 *
 * <p>Depends on the provider, the binding and quorum-auth; nothing below it imports it.
 */
package io.hsmkit.kms;
