package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import java.util.Arrays;
import java.util.Optional;

/**
 * Finds the secret behind an access key id, for SigV4 verification. Contract: empty for an
 * unknown or deactivated access key id; the returned secret is a fresh copy that the caller wipes
 * with {@link Credential#close()} as soon as the signature is checked. Thread-safe.
 */
@FunctionalInterface
public interface CredentialLookup {
  Optional<Credential> find(String accessKeyId);

  /** A principal (as a {@link Caller} without wire details) and its secret access key. */
  final class Credential implements AutoCloseable {
    private final Caller principal;
    private final char[] secretAccessKey;

    public Credential(Caller principal, char[] secretAccessKey) {
      this.principal = principal;
      this.secretAccessKey = secretAccessKey;
    }

    public Caller principal() {
      return principal;
    }

    /** The secret itself (not a copy): valid until {@link #close()}. */
    public char[] secretAccessKey() {
      return secretAccessKey;
    }

    /** Wipes the secret. */
    @Override
    public void close() {
      Arrays.fill(secretAccessKey, '\0');
    }

    @Override
    public String toString() {
      return "Credential[" + principal.principalArn() + ", secret=***]";
    }
  }
}
