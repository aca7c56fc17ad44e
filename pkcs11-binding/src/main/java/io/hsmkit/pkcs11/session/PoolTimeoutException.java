package io.hsmkit.pkcs11.session;

/** No session became free within the pool's borrow timeout. */
public final class PoolTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PoolTimeoutException(String message) {
    super(message);
  }
}
