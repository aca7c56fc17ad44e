package io.hsmkit.kms;

import java.util.Objects;

/**
 * Every failure of the KMS service: one AWS error and a message for the caller. Messages name the
 * key, the state or the parameter at fault, never a plaintext, a key byte, a PIN or a secret.
 */
public final class KmsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final KmsError error;

  public KmsException(KmsError error, String message) {
    super(message);
    this.error = Objects.requireNonNull(error, "error");
  }

  public KmsException(KmsError error, String message, Throwable cause) {
    super(message, cause);
    this.error = Objects.requireNonNull(error, "error");
  }

  public KmsError error() {
    return error;
  }

  @Override
  public String toString() {
    return error.awsName() + ": " + getMessage();
  }
}
