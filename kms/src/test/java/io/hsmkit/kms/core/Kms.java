package io.hsmkit.kms.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.api.CreateKeyRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Small helpers for the service tests. */
final class Kms {
  private Kms() {}

  /** Runs {@code call} and checks that it fails with {@code error}; returns the exception. */
  static KmsException fails(KmsError error, ThrowingCallable call) {
    KmsException e = catchThrowableOfType(KmsException.class, call);
    assertThat(e).as("expected " + error.awsName()).isNotNull();
    assertThat(e.error()).as(e.getMessage()).isEqualTo(error);
    return e;
  }

  static CreateKeyRequest symmetric() {
    return new CreateKeyRequest(null, "test key", null, null, null, null, null, null, null, null);
  }

  static CreateKeyRequest spec(String keySpec, String usage) {
    return new CreateKeyRequest(null, keySpec + " key", usage, null, keySpec, null, null, null, null, null);
  }
}
